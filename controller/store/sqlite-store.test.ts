// The sqlite store against the resource store contract (resource-store.contract.ts), in memory
// and on a file (sealed Secrets, reopened), plus what only sqlite promises: versions survive a
// reopen, and documents written before versions were strings read back with string versions.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resourceStoreContract } from './resource-store.contract.ts';
import { DatabaseSync } from 'node:sqlite';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { matchesListFields } from './list-fields.ts';
import type { BatchWrite } from './resource-store.ts';
import { SEEN_FLUSH_MS, SqliteStore } from './sqlite-store.ts';

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

  it('a relaxed status write commits without a disk sync, and every other write syncs again after it, also when it fails', async () => {
    const path = join(dir, 'relaxed.db');
    const store = new SqliteStore(path, { encryptionKey: KEY });
    const executed: string[] = [];
    const exec = store.db.exec.bind(store.db);
    store.db.exec = (sql: string) => (executed.push(sql), exec(sql));
    const synchronous = (): number => (store.db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous;
    try {
      const created = await store.create({ apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: { name: 's', namespace: 'default' }, spec: {}, status: { phase: 'Running' } });
      assert.ok(!executed.some((q) => /synchronous/i.test(q)), 'a create is synced (synchronous = FULL as opened)');
      executed.length = 0;
      const renewed = await store.updateStatus({ ...created, status: { phase: 'Running', progress: 1 } }, { ifVersion: created.metadata.resourceVersion!, durability: 'relaxed' });
      assert.deepEqual(executed, ['PRAGMA synchronous = NORMAL', 'BEGIN IMMEDIATE', 'COMMIT', 'PRAGMA synchronous = FULL']);
      assert.equal(synchronous(), 2, 'FULL again after the relaxed write');
      executed.length = 0;
      await assert.rejects(store.updateStatus({ ...created, status: { phase: 'Failed' } }, { ifVersion: created.metadata.resourceVersion!, durability: 'relaxed' }), (err) => isSidestashError(err, ErrorCodes.CONFLICT));
      assert.deepEqual(executed, ['PRAGMA synchronous = NORMAL', 'BEGIN IMMEDIATE', 'ROLLBACK', 'PRAGMA synchronous = FULL']);
      assert.equal(synchronous(), 2, 'FULL again after a refused relaxed write');
      executed.length = 0;
      await store.updateStatus({ ...renewed, status: { phase: 'Succeeded' } }, { ifVersion: renewed.metadata.resourceVersion! });
      assert.deepEqual(executed, ['BEGIN IMMEDIATE', 'COMMIT'], 'a durable status write is synced');
    } finally {
      store.close();
    }
    const again = new SqliteStore(path, { encryptionKey: KEY });
    try {
      assert.equal((await again.get('BackupSession', 'default', 's'))?.status?.phase, 'Succeeded');
    } finally {
      again.close();
    }
  });

  it('a relaxed delete commits without a disk sync, and syncs again after it, also when it is refused; a plain delete is synced', async () => {
    const path = join(dir, 'relaxed-delete.db');
    const store = new SqliteStore(path, { encryptionKey: KEY });
    const executed: string[] = [];
    const exec = store.db.exec.bind(store.db);
    store.db.exec = (sql: string) => (executed.push(sql), exec(sql));
    const synchronous = (): number => (store.db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous;
    const session = (name: string) => store.create({ apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: { name, namespace: 'default' }, spec: {}, status: { phase: 'Succeeded' } });
    try {
      const a = await session('a');
      await session('b');
      executed.length = 0;
      await assert.rejects(store.delete('BackupSession', 'default', 'a', { ifVersion: 'stale', durability: 'relaxed' }), (err) => isSidestashError(err, ErrorCodes.CONFLICT));
      assert.deepEqual(executed, ['PRAGMA synchronous = NORMAL', 'BEGIN IMMEDIATE', 'ROLLBACK', 'PRAGMA synchronous = FULL']);
      assert.equal(synchronous(), 2, 'FULL again after a refused relaxed delete');
      executed.length = 0;
      assert.equal(await store.delete('BackupSession', 'default', 'a', { ifVersion: a.metadata.resourceVersion!, durability: 'relaxed' }), true);
      assert.deepEqual(executed, ['PRAGMA synchronous = NORMAL', 'BEGIN IMMEDIATE', 'COMMIT', 'PRAGMA synchronous = FULL']);
      assert.equal(synchronous(), 2, 'FULL again after the relaxed delete');
      executed.length = 0;
      assert.equal(await store.delete('BackupSession', 'default', 'b'), true);
      assert.deepEqual(executed, ['BEGIN IMMEDIATE', 'COMMIT'], 'a durable delete is synced');
    } finally {
      store.close();
    }
    const again = new SqliteStore(path, { encryptionKey: KEY });
    try {
      assert.deepEqual((await again.list('BackupSession')).map((r) => r.metadata.name), []);
    } finally {
      again.close();
    }
  });

  it('an agent\'s last-seen time is read back at once, written in one batch, and written when the store closes', async () => {
    const path = join(dir, 'seen.db');
    const first = new SqliteStore(path, { encryptionKey: KEY });
    const rowSeen = (s: SqliteStore, name: string): string => (s.db.prepare('SELECT last_seen_at FROM agents WHERE name = ?').get(name) as { last_seen_at: string }).last_seen_at;
    for (const name of ['ns/a', 'ns/b']) first.putAgent({ name, tokenSha256: 'x', targets: ['ns/t'], version: '1', registeredAt: '2026-01-01T00:00:00.000Z', lastSeenAt: '2026-01-01T00:00:00.000Z' });
    first.touchAgent('ns/a', '2026-01-01T00:01:00.000Z');
    first.touchAgent('ns/b', '2026-01-01T00:02:00.000Z');
    first.touchAgent('ns/gone', '2026-01-01T00:03:00.000Z'); // no such agent: nothing to write
    assert.equal(first.getAgent('ns/a')?.lastSeenAt, '2026-01-01T00:01:00.000Z', 'read back before it is written');
    assert.deepEqual(first.listAgents().map((a) => a.lastSeenAt), ['2026-01-01T00:01:00.000Z', '2026-01-01T00:02:00.000Z']);
    assert.equal(rowSeen(first, 'ns/a'), '2026-01-01T00:00:00.000Z', 'not written per call');
    first.flushSeen();
    assert.equal(rowSeen(first, 'ns/a'), '2026-01-01T00:01:00.000Z');
    assert.equal(rowSeen(first, 'ns/b'), '2026-01-01T00:02:00.000Z');
    first.touchAgent('ns/a', '2026-01-01T00:04:00.000Z');
    first.touchAgent('ns/b', '2026-01-01T00:04:30.000Z');
    first.putAgent({ name: 'ns/b', tokenSha256: 'y', targets: ['ns/t'], version: '2', registeredAt: '2026-01-01T00:05:00.000Z', lastSeenAt: '2026-01-01T00:05:00.000Z' });
    first.close();
    const again = new SqliteStore(path, { encryptionKey: KEY });
    try {
      assert.equal(again.getAgent('ns/a')?.lastSeenAt, '2026-01-01T00:04:00.000Z', 'written when the store closed');
      assert.equal(again.getAgent('ns/b')?.lastSeenAt, '2026-01-01T00:05:00.000Z', 'a registration written after a touch wins');
    } finally {
      again.close();
    }
  });

  // The batch was taken out of memory before it was written: a write refused (the database locked
  // by another connection past busy_timeout: an operator's sqlite3, a backup tool) lost it, and
  // thrown from the flush timer it was an uncaught exception that ended the controller.
  it('last-seen times a locked database refuses stay held, are written once it is free, and the flush timer does not throw', async () => {
    const path = join(dir, 'seen-locked.db');
    const store = new SqliteStore(path, { encryptionKey: KEY });
    const other = new DatabaseSync(path);
    try {
      store.db.exec('PRAGMA busy_timeout = 0');
      const rowSeen = (name: string): string => (store.db.prepare('SELECT last_seen_at FROM agents WHERE name = ?').get(name) as { last_seen_at: string }).last_seen_at;
      store.putAgent({ name: 'ns/a', tokenSha256: 'x', targets: ['ns/t'], version: '1', registeredAt: '2026-01-01T00:00:00.000Z', lastSeenAt: '2026-01-01T00:00:00.000Z' });
      other.exec('BEGIN IMMEDIATE');
      store.touchAgent('ns/a', '2026-01-01T00:01:00.000Z');
      assert.throws(() => store.flushSeen(), /locked|busy/i);
      assert.equal(store.getAgent('ns/a')?.lastSeenAt, '2026-01-01T00:01:00.000Z', 'still held after the refused write');
      store.touchAgent('ns/a', '2026-01-01T00:02:00.000Z');
      // The timer's flush is refused too (the lock is still held): it must keep the time and not throw.
      await new Promise((resolve) => setTimeout(resolve, SEEN_FLUSH_MS + 500));
      assert.equal(store.getAgent('ns/a')?.lastSeenAt, '2026-01-01T00:02:00.000Z');
      other.exec('ROLLBACK');
      store.flushSeen();
      assert.equal(rowSeen('ns/a'), '2026-01-01T00:02:00.000Z', 'written once the database is free');
    } finally {
      other.close();
      store.close();
    }
  });
});

// A list by invoker (a finish's prune, every session created) or by read-data marker (a finish)
// read every document of the kind through json_extract; an index on each expression finds the rows.
describe('a list by an indexed field', () => {
  it('reads through its index (the query plan), also with other filters, and finds what a scan finds', async () => {
    const store = new SqliteStore(':memory:', { encryptionKey: KEY });
    // Each case's SQL differs (prepared once, then cached): the text prepared in the case is its query.
    const selects: string[] = [];
    const prepare = store.db.prepare.bind(store.db);
    store.db.prepare = ((sql: string) => (sql.startsWith('SELECT') && selects.push(sql), prepare(sql))) as typeof store.db.prepare;
    try {
      const rows: BatchWrite[] = [];
      for (let i = 0; i < 300; i++) {
        rows.push({ op: 'create', resource: { apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: { name: `s${i}`, namespace: i % 2 ? 'a' : 'b' }, spec: { invoker: { kind: 'BackupConfiguration', name: `c${i % 30}` } }, status: { phase: i % 3 ? 'Succeeded' : 'Running' } } });
        rows.push({ op: 'create', resource: { apiVersion: 'sidestash.io/v1', kind: 'Repository', metadata: { name: `r${i}`, namespace: 'a' }, spec: {}, ...(i % 100 === 7 ? { status: { readDataCheckPending: { session: `s${i}`, since: 't' } } } : {}) } });
      }
      rows.push({ op: 'create', resource: { apiVersion: 'sidestash.io/v1', kind: 'Secret', metadata: { name: 'sealed', namespace: 'a' }, spec: { stringData: { k: 'v' } } } });
      await store.applyBatch(rows);
      const cases: [Parameters<SqliteStore['list']>[0], NonNullable<Parameters<SqliteStore['list']>[1]>, string, number][] = [
        ['BackupSession', { namespace: 'a', invoker: 'c7' }, 'resources_by_invoker', 10],
        ['BackupSession', { invoker: 'c8' }, 'resources_by_invoker', 10],
        ['BackupSession', { namespace: 'a', invoker: 'c7', phases: ['Running'] }, 'resources_by_invoker', 0],
        ['BackupSession', { invoker: 'c0', phases: ['Running'] }, 'resources_by_invoker', 10],
        ['Repository', { namespace: 'a', readDataCheckPendingSession: 's107' }, 'resources_by_read_data_pending', 1],
        ['Repository', { readDataCheckPendingSession: 's108' }, 'resources_by_read_data_pending', 0],
      ];
      for (const [kind, options, index, count] of cases) {
        selects.length = 0;
        const got = await store.list(kind, options);
        const scanned = (await store.list(kind, options.namespace === undefined ? {} : { namespace: options.namespace })).filter((r) => matchesListFields(r, options));
        assert.deepEqual(got.map((r) => r.metadata.name), scanned.map((r) => r.metadata.name), `${kind} ${JSON.stringify(options)}: as a scan finds`);
        assert.equal(got.length, count, `${kind} ${JSON.stringify(options)}`);
        const sql = selects.find((q) => /json_extract/.test(q));
        assert.ok(sql, `${kind} ${JSON.stringify(options)}: filtered in SQL`);
        const details = (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
        assert.match(details, new RegExp(`USING (COVERING )?INDEX ${index}\\b`), `${kind} ${JSON.stringify(options)}: ${details}`);
      }
    } finally {
      store.close();
    }
  });
});

// A paged list with a label selector decoded every row after the page's start for each page
// (O(n) per page, O(n^2) for a whole paged listing); it decodes rows only until the page is full.
describe('a paged list with a label selector', () => {
  it('decodes rows only until the page is full, and pages across chunks find every match once', async () => {
    const store = new SqliteStore(':memory:', { encryptionKey: KEY });
    try {
      const n = 2000;
      const matching = new Set([3, 700, 1999]);
      for (let i = 0; i < n; i++) {
        const name = `b-${String(i).padStart(4, '0')}`;
        await store.create({ apiVersion: 'sidestash.io/v1', kind: 'AppBinding', metadata: { name, namespace: 'default', labels: { pick: matching.has(i) ? 'yes' : 'no' } }, spec: {} });
      }
      const parse = JSON.parse;
      let parsed = 0;
      JSON.parse = ((...args: Parameters<typeof JSON.parse>) => (parsed++, parse(...args))) as typeof JSON.parse;
      let first;
      try {
        first = await store.list('AppBinding', { labelSelector: 'pick=yes', limit: 1 });
      } finally {
        JSON.parse = parse;
      }
      assert.deepEqual(first.map((r) => r.metadata.name), ['b-0003']);
      assert.ok(parsed <= 300, `${parsed} documents decoded for a page of one found in the first rows`);
      const second = await store.list('AppBinding', { labelSelector: 'pick=yes', limit: 1, after: { namespace: 'default', name: 'b-0003' } });
      assert.deepEqual(second.map((r) => r.metadata.name), ['b-0700'], 'found beyond the first chunk');
      const rest = await store.list('AppBinding', { labelSelector: 'pick=yes', limit: 5, after: { namespace: 'default', name: 'b-0700' } });
      assert.deepEqual(rest.map((r) => r.metadata.name), ['b-1999'], 'the last row, in a short last chunk');
      assert.deepEqual((await store.list('AppBinding', { labelSelector: 'pick=yes' })).map((r) => r.metadata.name), ['b-0003', 'b-0700', 'b-1999'], 'without a limit: all');
    } finally {
      store.close();
    }
  });
});
