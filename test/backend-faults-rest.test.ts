// Backend failures against a real restic REST server (`rclone serve restic`) behind
// test/helpers/faulty-proxy.ts: HTTP 429 with Retry-After, uploads failing from the second pack
// on (no snapshot, no lock, restic check clean, its pack indexed and pruned), listings over 1,000 files.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RestBackend } from '../common/backend/rest/rest-backend.ts';
import type { RetryPolicy } from '../common/backend/retry.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { prune } from '../common/repository/prune.ts';
import { Repository } from '../common/repository/repository.ts';
import { listSnapshots } from '../common/repository/snapshot.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { MiB, incompressible, names, saveMany, throttledOnce } from './helpers/backend-faults.ts';
import { startFaultyProxy } from './helpers/faulty-proxy.ts';
import type { FaultyProxy } from './helpers/faulty-proxy.ts';
import { startRestServer } from './helpers/rest-server.ts';
import type { RestServer } from './helpers/rest-server.ts';
import { restic } from './helpers/restic.ts';

const PASSWORD = 'pw-backend-faults-rest';
const fastKdf = { scrypt: { N: 1024, r: 8, p: 1 } };
const FAST: RetryPolicy = { attempts: 4, baseDelayMs: 10, maxDelayMs: 50 };

describe('REST backend faults', () => {
  let rest: RestServer;
  let restProxy: FaultyProxy;
  before(async () => {
    rest = await startRestServer();
    restProxy = await startFaultyProxy(rest.url);
  });
  after(async () => {
    await restProxy?.stop();
    await rest?.stop();
  });

  it('HTTP 429 is retried after the server\'s Retry-After, then succeeds', async () => {
    const b = new RestBackend(`rest:${restProxy.url}/throttled/`, { REST_SERVER_USERNAME: rest.username, REST_SERVER_PASSWORD: rest.password }, FAST);
    await b.create();
    const waitedMs = await throttledOnce(restProxy, b, (req) => req.method === 'POST' && /\/data\//.test(req.url ?? ''));
    // The policy alone would wait 5-10 ms; setTimeout may fire a millisecond early.
    assert.ok(waitedMs >= 990, `waited ${waitedMs} ms before the retry`);
    await b.close();
  });

  it('an upload failing from the second pack on fails the backup: no snapshot, no lock, check clean, unused packs pruned', async () => {
    const auth = { REST_SERVER_USERNAME: rest.username, REST_SERVER_PASSWORD: rest.password };
    const repo = await Repository.init(new RestBackend(`rest:${restProxy.url}/midway/`, auth, FAST), PASSWORD, fastKdf);
    let packs = 0;
    restProxy.decide = (req) => (req.method === 'POST' && /\/data\//.test(req.url ?? '') && ++packs >= 2 ? { kind: 'status', status: 500, body: 'injected' } : undefined);
    try {
      await assert.rejects(writeSnapshot(repo, incompressible(24 * MiB), { filename: 'dumpfile.sql', packSizeBytes: 4 * MiB }), (err) => {
        assert.ok(isSidestashError(err, ErrorCodes.BACKEND_IO), String(err));
        assert.match(err.message, /REST POST \/data\/[0-9a-f]{64}: giving up after 4 attempts: .*500 injected/);
        return true;
      });
    } finally {
      restProxy.decide = () => undefined;
    }
    assert.equal(packs, 5, 'the first pack was stored, the second tried 4 times');
    assert.deepEqual(await listSnapshots(repo), []);
    assert.deepEqual(await names(repo.backend, 'locks'), [], 'the lock is released');
    const resticRepo = `rest:http://${rest.username}:${rest.password}@${new URL(rest.url).host}/midway/`;
    const r = await restic(resticRepo, PASSWORD, ['check', '--read-data']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const pruned = await prune(repo);
    // The failed backup indexed the pack it had stored (for the next one to reuse): prune removes it as unused.
    assert.deepEqual([pruned.packsRemoved, pruned.orphanedPacksRemoved], [1, 0], JSON.stringify(pruned));
    assert.deepEqual(await names(repo.backend, 'data'), []);
    await repo.backend.close();
  });

  it('lists more than 1,000 files of a type', async () => {
    const b = new RestBackend(`rest:${rest.url}/many/`, { REST_SERVER_USERNAME: rest.username, REST_SERVER_PASSWORD: rest.password });
    await b.create();
    const ids = await saveMany(b, 1100);
    assert.deepEqual(await names(b, 'data'), ids);
    await b.close();
  });
});
