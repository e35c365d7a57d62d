// The sqlite store against the resource store contract (resource-store.contract.ts), in memory
// and on a file (sealed Secrets, reopened), plus what only sqlite promises: versions survive a
// reopen, and documents written before versions were strings read back with string versions.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resourceStoreContract } from './resource-store.contract.ts';
import { SqliteStore } from './sqlite-store.ts';

const KEY = { text: Buffer.alloc(32, 7).toString('base64'), setting: 'a test key' };

resourceStoreContract('sqlite (in memory)', async () => new SqliteStore(':memory:', { encryptionKey: KEY }));

// The directory is made before the suites are declared: a describe callback that awaits
// declares its tests too late for Deno's node:test.
const dir = mkdtempSync(join(tmpdir(), 'sidestash-sqlite-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('sqlite store on a file', () => {
  let n = 0;
  resourceStoreContract('sqlite (file)', async () => new SqliteStore(join(dir, `c${++n}.db`), { encryptionKey: KEY }));

  it('keeps resources, their versions and Secrets (sealed) across a reopen, and versions keep growing', async () => {
    const path = join(dir, 'reopen.db');
    const first = new SqliteStore(path, { encryptionKey: KEY });
    const secret = await first.create({ apiVersion: 'sidestash.io/v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, spec: { stringData: { password: 'hunter2' } } });
    first.close();
    const again = new SqliteStore(path, { encryptionKey: KEY });
    try {
      assert.deepEqual(await again.get('Secret', 'default', 's'), secret);
      const raw = again.db.prepare("SELECT doc FROM resources WHERE kind = 'Secret'").get() as { doc: string };
      assert.ok(!raw.doc.includes('hunter2'), 'sealed at rest');
      const next = await again.create({ apiVersion: 'sidestash.io/v1', kind: 'AppBinding', metadata: { name: 'a', namespace: 'default' }, spec: {} });
      assert.notEqual(next.metadata.resourceVersion, secret.metadata.resourceVersion, 'the counter is not reset by a reopen');
    } finally {
      again.close();
    }
  });
});
