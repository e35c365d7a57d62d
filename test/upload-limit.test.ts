// The upload bandwidth limit (common/backend/rate-limit.ts) measured end to end: a backup of
// ~6 MiB through a limit of 256 KiB/s into a real restic REST server (`rclone serve restic`,
// which does not throttle), with three uploads at a time sharing the one limit, through a
// proxy that times the request bodies' bytes as they cross it. The checks are on the achieved
// rate (bytes / elapsed) and on the steadiness at the wire, not on a deadline.
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import type { Backend } from '../common/backend/backend.ts';
import { openBackend } from '../common/backend/open-backend.ts';
import { RateLimitedBackend } from '../common/backend/rate-limit.ts';
import { RestBackend } from '../common/backend/rest/rest-backend.ts';
import { Repository } from '../common/repository/repository.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { startRestServer } from './helpers/rest-server.ts';
import { startS3Server } from './helpers/s3-server.ts';
import type { S3Server } from './helpers/s3-server.ts';
import type { RestServer } from './helpers/rest-server.ts';
import { restic } from './helpers/restic.ts';

const PASSWORD = 'pw-upload-limit';
const MiB = 1024 * 1024;
const LIMIT_KIBPS = 256;

/** Deterministic incompressible bytes (AES-CTR keystream). */
function keystream(sizeBytes: number, seed: number): Readable {
  const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, seed), Buffer.alloc(16));
  return Readable.from((function* () {
    for (let done = 0; done < sizeBytes; done += MiB) yield cipher.update(Buffer.alloc(Math.min(MiB, sizeBytes - done)));
  })());
}

/** Counts the bytes of finished save() calls. */
function counting(inner: Backend): Backend & { savedBytes: number } {
  const b: Backend & { savedBytes: number } = {
    savedBytes: 0,
    location: inner.location,
    create: (o) => inner.create(o),
    save: async (h, data, o) => {
      await inner.save(h, data, o);
      b.savedBytes += data.byteLength;
    },
    load: (h, o) => inner.load(h, o),
    stat: (h, o) => inner.stat(h, o),
    list: (t, o) => inner.list(t, o),
    remove: (h, o) => inner.remove(h, o),
    close: () => inner.close(),
  };
  return b;
}

/** A forwarding proxy that records when each piece of a request body arrived. */
async function startTimingProxy(upstream: string): Promise<{ url: string; arrivals: { atMs: number; bytes: number }[]; stop(): Promise<void> }> {
  const target = new URL(upstream);
  const arrivals: { atMs: number; bytes: number }[] = [];
  const server: Server = createServer((req, res) => {
    const out = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.on('data', (d: Buffer) => arrivals.push({ atMs: performance.now(), bytes: d.length }));
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The most body bytes that crossed the proxy within any window of `windowMs`. */
function busiestWindowBytes(arrivals: readonly { atMs: number; bytes: number }[], windowMs: number): number {
  let best = 0;
  let sum = 0;
  let from = 0;
  for (let i = 0; i < arrivals.length; i++) {
    sum += arrivals[i]!.bytes;
    while (arrivals[i]!.atMs - arrivals[from]!.atMs > windowMs) sum -= arrivals[from++]!.bytes;
    best = Math.max(best, sum);
  }
  return best;
}

describe('upload bandwidth limit', () => {
  let rest: RestServer;
  let proxy: Awaited<ReturnType<typeof startTimingProxy>>;
  before(async () => {
    rest = await startRestServer();
    proxy = await startTimingProxy(rest.url);
  });
  after(async () => {
    await proxy?.stop();
    await rest?.stop();
  });

  it(`a backup through limitUploadKiBps=${LIMIT_KIBPS} uploads at that rate (within 10%)`, async () => {
    const auth = { REST_SERVER_USERNAME: rest.username, REST_SERVER_PASSWORD: rest.password };
    const location = `rest:${rest.url}/limited/`;
    // The repository is made without the limit: only the backup's uploads are measured.
    const plain = new RestBackend(location, auth);
    // restic's test polynomial: cut points fixed, so that the 6 MiB make at least 4 packs (a
    // random polynomial made 3 once).
    await Repository.init(plain, PASSWORD, { scrypt: { N: 1024, r: 8, p: 1 }, chunkerPolynomial: 0x3da3358b4dc173n });
    await plain.close();
    // The agent's path: openBackend with the limit (agent/backend-settings.ts backupBackendOptions).
    const opened = await openBackend(`rest:${proxy.url}/limited/`, auth, { limitUploadKiBps: LIMIT_KIBPS });
    assert.ok(opened instanceof RateLimitedBackend);
    const limited = counting(opened);
    const repo = await Repository.open(limited, PASSWORD);
    proxy.arrivals.length = 0;
    const startMs = performance.now();
    const result = await writeSnapshot(repo, keystream(6 * MiB, 1), { filename: 'dumpfile.sql', packSizeBytes: MiB, uploadConcurrency: 3 });
    const elapsedS = (performance.now() - startMs) / 1000;
    const rateKiBps = limited.savedBytes / 1024 / elapsedS;
    console.log(`uploaded ${limited.savedBytes} bytes in ${elapsedS.toFixed(2)} s: ${rateKiBps.toFixed(1)} KiB/s against a limit of ${LIMIT_KIBPS} KiB/s (${((rateKiBps / LIMIT_KIBPS - 1) * 100).toFixed(1)}%)`);
    assert.ok(result.stats.packs >= 4, `${result.stats.packs} packs`);
    assert.ok(limited.savedBytes >= 6 * MiB, `${limited.savedBytes} bytes uploaded`);
    assert.ok(Math.abs(rateKiBps / LIMIT_KIBPS - 1) <= 0.1, `achieved ${rateKiBps.toFixed(1)} KiB/s, limit ${LIMIT_KIBPS} KiB/s`);
    // At the wire: the body bytes the proxy saw, from the first to the last.
    const wireBytes = proxy.arrivals.reduce((n, a) => n + a.bytes, 0);
    const wireS = (proxy.arrivals.at(-1)!.atMs - proxy.arrivals[0]!.atMs) / 1000;
    const busiest = busiestWindowBytes(proxy.arrivals, 1000);
    console.log(`at the proxy: ${wireBytes} body bytes in ${wireS.toFixed(2)} s: ${(wireBytes / 1024 / wireS).toFixed(1)} KiB/s; busiest second ${(busiest / 1024).toFixed(0)} KiB`);
    assert.ok(Math.abs(wireBytes / 1024 / wireS / LIMIT_KIBPS - 1) <= 0.1, `${(wireBytes / 1024 / wireS).toFixed(1)} KiB/s at the wire`);
    // Steady, not pack-sized bursts: a token bucket lets through at most a second's burst plus
    // the rate in any second; two 64 KiB slices of slack for when the proxy reads them.
    assert.ok(busiest <= (2 * LIMIT_KIBPS + 128) * 1024, `${(busiest / 1024).toFixed(0)} KiB crossed in one second`);
    await limited.close();
    const check = await restic(`rest:http://${rest.username}:${rest.password}@${new URL(rest.url).host}/limited/`, PASSWORD, ['check', '--read-data']);
    assert.equal(check.code, 0, check.stderr + check.stdout);
  });

  it('S3: paced bodies, single and multipart, are stored whole and signed right; the limit holds', async () => {
    const s3: S3Server = await startS3Server();
    try {
      const creds = { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, S3_MULTIPART_THRESHOLD_BYTES: String(6 * MiB), S3_PART_SIZE_BYTES: String(5 * MiB) };
      const location = `s3:${s3.endpoint}/limited`;
      const plain = await openBackend(location, creds);
      await Repository.init(plain, PASSWORD, { scrypt: { N: 1024, r: 8, p: 1 } });
      await plain.close();
      const limitKiBps = 4096;
      const limited = counting(await openBackend(location, creds, { limitUploadKiBps: limitKiBps }));
      const repo = await Repository.open(limited, PASSWORD);
      const startMs = performance.now();
      const result = await writeSnapshot(repo, keystream(16 * MiB, 2), { filename: 'dumpfile.sql' });
      const elapsedS = (performance.now() - startMs) / 1000;
      console.log(`S3: uploaded ${limited.savedBytes} bytes in ${elapsedS.toFixed(2)} s through a limit of ${limitKiBps} KiB/s`);
      assert.ok(result.stats.packs >= 2);
      // Enforced: no faster than the limit allows after the bucket's first second.
      assert.ok(elapsedS >= (limited.savedBytes / 1024 - limitKiBps) / limitKiBps, `${elapsedS} s`);
      await limited.close();
      const check = await restic(location, PASSWORD, ['check', '--read-data'], undefined, creds);
      assert.equal(check.code, 0, check.stderr + check.stdout);
    } finally {
      await s3.stop();
    }
  });
});
