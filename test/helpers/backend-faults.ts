// Helpers shared by the backend fault tests (test/backend-faults*.test.ts, backend-enospc).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { Backend, FileType } from '../../common/backend/backend.ts';
import type { FaultyProxy } from './faulty-proxy.ts';

export const MiB = 1024 * 1024;

/** The query of a request the proxy sees. */
export function query(req: IncomingMessage): URLSearchParams {
  return new URL(req.url ?? '/', 'http://proxy').searchParams;
}

/** Incompressible bytes, so that packs fill as the sizes say. */
export function incompressible(sizeBytes: number): Readable {
  return Readable.from((function* () {
    for (let done = 0; done < sizeBytes; done += MiB) yield randomBytes(Math.min(MiB, sizeBytes - done));
  })());
}

/** Names of the files of a type, sorted. */
export async function names(b: Backend, type: FileType): Promise<string[]> {
  const out: string[] = [];
  for await (const f of b.list(type)) out.push(f.name);
  return out.sort();
}

/** Saves `count` small data files, 16 at a time; returns their names, sorted. */
export async function saveMany(b: Backend, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomBytes(32).toString('hex'));
  for (let i = 0; i < ids.length; i += 16) await Promise.all(ids.slice(i, i + 16).map((id) => b.save({ type: 'data', name: id }, Buffer.from(id))));
  return ids.sort();
}

/** Saves through `b` while the first upload the proxy sees answers 429 Retry-After: 1; returns the wait before the retry. */
export async function throttledOnce(proxy: FaultyProxy, b: Backend, isUpload: (req: IncomingMessage) => boolean): Promise<number> {
  let throttledAt: number | undefined;
  let retriedAt: number | undefined;
  proxy.decide = (req) => {
    if (!isUpload(req)) return undefined;
    if (throttledAt === undefined) {
      throttledAt = Date.now();
      return { kind: 'status', status: 429, headers: { 'retry-after': '1' }, body: '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>' };
    }
    retriedAt ??= Date.now();
    return undefined;
  };
  const data = randomBytes(64 * 1024);
  const name = randomBytes(32).toString('hex');
  try {
    await b.save({ type: 'data', name }, data);
  } finally {
    proxy.decide = () => undefined;
  }
  assert.ok(Buffer.from(await b.load({ type: 'data', name })).equals(data));
  assert.ok(throttledAt !== undefined && retriedAt !== undefined, 'throttled once, then retried');
  return retriedAt - throttledAt;
}
