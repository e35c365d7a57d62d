// The upload bandwidth limit (common/backend/rate-limit.ts) measured end to end: a backup of
// ~6 MiB through a limit of 256 KiB/s into a real restic REST server (`rclone serve restic`,
// which does not throttle), with three uploads at a time sharing the one limit. The check is
// on the achieved rate (bytes uploaded / elapsed), not on a deadline.
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import type { Backend } from '../common/backend/backend.ts';
import { openBackend } from '../common/backend/open-backend.ts';
import { RateLimitedBackend } from '../common/backend/rate-limit.ts';
import { RestBackend } from '../common/backend/rest/rest-backend.ts';
import { Repository } from '../common/repository/repository.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { startRestServer } from './helpers/rest-server.ts';
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

describe('upload bandwidth limit', () => {
  let rest: RestServer;
  before(async () => {
    rest = await startRestServer();
  });
  after(async () => {
    await rest?.stop();
  });

  it(`a backup through limitUploadKiBps=${LIMIT_KIBPS} uploads at that rate (within 10%)`, async () => {
    const auth = { REST_SERVER_USERNAME: rest.username, REST_SERVER_PASSWORD: rest.password };
    const location = `rest:${rest.url}/limited/`;
    // The repository is made without the limit: only the backup's uploads are measured.
    const plain = new RestBackend(location, auth);
    await Repository.init(plain, PASSWORD, { scrypt: { N: 1024, r: 8, p: 1 } });
    await plain.close();
    // The agent's path: openBackend with the limit (agent/backend-settings.ts backupBackendOptions).
    const opened = await openBackend(location, auth, { limitUploadKiBps: LIMIT_KIBPS });
    assert.ok(opened instanceof RateLimitedBackend);
    const limited = counting(opened);
    const repo = await Repository.open(limited, PASSWORD);
    const startMs = performance.now();
    const result = await writeSnapshot(repo, keystream(6 * MiB, 1), { filename: 'dumpfile.sql', packSizeBytes: MiB, uploadConcurrency: 3 });
    const elapsedS = (performance.now() - startMs) / 1000;
    const rateKiBps = limited.savedBytes / 1024 / elapsedS;
    console.log(`uploaded ${limited.savedBytes} bytes in ${elapsedS.toFixed(2)} s: ${rateKiBps.toFixed(1)} KiB/s against a limit of ${LIMIT_KIBPS} KiB/s (${((rateKiBps / LIMIT_KIBPS - 1) * 100).toFixed(1)}%)`);
    assert.ok(result.stats.packs >= 4, `${result.stats.packs} packs`);
    assert.ok(limited.savedBytes >= 6 * MiB, `${limited.savedBytes} bytes uploaded`);
    assert.ok(Math.abs(rateKiBps / LIMIT_KIBPS - 1) <= 0.1, `achieved ${rateKiBps.toFixed(1)} KiB/s, limit ${LIMIT_KIBPS} KiB/s`);
    await limited.close();
    const check = await restic(`rest:http://${rest.username}:${rest.password}@${new URL(rest.url).host}/limited/`, PASSWORD, ['check', '--read-data']);
    assert.equal(check.code, 0, check.stderr + check.stdout);
  });
});
