import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import { watchEvents } from './watch-stream.ts';

async function* chunks(parts: (string | Error)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) {
    if (p instanceof Error) throw p;
    yield new TextEncoder().encode(p);
  }
}
const collect = async (parts: (string | Error)[]): Promise<string[]> => {
  const out: string[] = [];
  for await (const e of watchEvents(chunks(parts), 'watch')) out.push(`${e.type} ${(e.object.metadata as { name?: string } | undefined)?.name ?? ''}`);
  return out;
};
const ev = (type: string, name: string) => `${JSON.stringify({ type, object: { metadata: { name, resourceVersion: '1' } } })}\n`;

test('events split across chunks, several in one chunk, a last line without newline, and a multi-byte character split in two', async () => {
  const all = ev('ADDED', 'a') + ev('MODIFIED', 'b') + ev('BOOKMARK', '') + ev('DELETED', 'ä');
  const bytes = new TextEncoder().encode(all.slice(0, -1));
  const split = bytes.indexOf(0xc3) + 1; // in the middle of "ä"
  async function* raw(): AsyncGenerator<Uint8Array> {
    yield bytes.slice(0, 7);
    yield bytes.slice(7, split);
    yield bytes.slice(split);
  }
  const out: string[] = [];
  for await (const e of watchEvents(raw(), 'w')) out.push(`${e.type} ${e.object.metadata.name}`);
  assert.deepEqual(out, ['ADDED a', 'MODIFIED b', 'BOOKMARK ', 'DELETED ä']);
  assert.deepEqual(await collect([ev('ADDED', 'x'), '\n\n', ev('ADDED', 'y')]), ['ADDED x', 'ADDED y']);
});

test('what is not a watch event ends the watch as KUBE_UNAVAILABLE (retryable); a dropped body too', async () => {
  const bad = ['not json\n', '{"type":"SYNC","object":{"metadata":{}}}\n', '{"type":"ADDED","object":{}}\n', '{"type":"ADDED"}\n', '[1]\n'];
  for (const line of bad) {
    await assert.rejects(collect([ev('ADDED', 'ok'), line]), (e: unknown) => e instanceof SidestashError && e.code === ErrorCodes.KUBE_UNAVAILABLE && e.retryable, line);
  }
  await assert.rejects(collect([ev('ADDED', 'ok'), Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })]), (e: unknown) => e instanceof SidestashError && e.code === ErrorCodes.KUBE_UNAVAILABLE && e.retryable);
  // An ERROR event carries a Status, not an object with metadata: it is passed on for the client to raise.
  assert.deepEqual(await collect(['{"type":"ERROR","object":{"kind":"Status","code":410}}\n']), ['ERROR ']);
});
