// The state database at rest: private file modes whatever the umask, Secret documents sealed
// with the configured key, databases of earlier versions sealed on opening, wrong keys refused.
import assert from 'node:assert/strict';
import { upsert } from './upsert.ts';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { isSidestashError } from '../../common/errors.ts';
import { tempDir } from '../../test/helpers/tmp.ts';
import type { Resource } from '../resources/types.ts';
import { Store } from './store.ts';

const secret = (name: string, password: string, namespace = 'default'): Resource => ({ apiVersion: 'sidestash.io/v1', kind: 'Secret', metadata: { name, namespace }, spec: { stringData: { username: 'root', password } } });
const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);
const keyOf = (setting = 'SIDESTASH_ENCRYPTION_KEY') => ({ text: randomBytes(32).toString('base64'), setting });

let dir: { path: string; cleanup: () => Promise<void> };
before(async () => (dir = await tempDir('sidestash-store-')));
after(() => dir.cleanup());

describe('state database files', () => {
  it('are created 0700 (directory) and 0600 (db, -wal, -shm, key) even with umask 000', async () => {
    const old = process.umask(0);
    let store: Store | undefined;
    try {
      const db = join(dir.path, 'umask', 'state', 'controller.db');
      store = new Store(db);
      (await upsert(store, secret('s', 'pw')));
      assert.ok(existsSync(`${db}-wal`) && existsSync(`${db}-shm`), 'WAL mode files exist while open');
      assert.deepEqual([db, `${db}-wal`, `${db}-shm`, join(dir.path, 'umask', 'state', 'encryption.key')].map(mode), ['600', '600', '600', '600']);
      assert.equal(mode(join(dir.path, 'umask', 'state')), '700');
      assert.equal(mode(join(dir.path, 'umask')), '700');
    } finally {
      store?.close();
      process.umask(old);
    }
  });

  it('are tightened on opening when an earlier run left them looser', async () => {
    const d = join(dir.path, 'loose');
    mkdirSync(d, { mode: 0o755 });
    chmodSync(d, 0o755);
    const db = join(d, 'controller.db');
    const raw = new DatabaseSync(db);
    raw.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (x)');
    // keep it open so -wal and -shm stay, and loosen all three
    for (const f of [db, `${db}-wal`, `${db}-shm`]) chmodSync(f, 0o666);
    const store = new Store(db);
    try {
      assert.deepEqual([d, db, `${db}-wal`, `${db}-shm`].map(mode), ['700', '600', '600', '600']);
    } finally {
      store.close();
      raw.close();
    }
  });
});

describe('Secrets at rest', () => {
  it('are sealed in the file and read back through the store', async () => {
    const db = join(dir.path, 'sealed', 'c.db');
    const key = keyOf();
    const store = new Store(db, { encryptionKey: key });
    (await upsert(store, secret('db-creds', 'marker-pw-7c1f')));
    (await upsert(store, { apiVersion: 'sidestash.io/v1', kind: 'Repository', metadata: { name: 'r', namespace: 'default' }, spec: { backend: { local: { path: '/b' }, storageSecretName: 'db-creds' } } }));
    assert.equal((await store.get<{ stringData: Record<string, string> }, unknown>('Secret', 'default', 'db-creds'))!.spec.stringData.password, 'marker-pw-7c1f');
    assert.equal((await store.list('Secret')).length, 1);
    store.close();
    for (const f of [db, `${db}-wal`]) if (existsSync(f)) assert.ok(!readFileSync(f).includes('marker-pw-7c1f'), `${f} holds the plaintext`);
    const raw = new DatabaseSync(db);
    const rows = raw.prepare('SELECT kind, doc FROM resources ORDER BY kind').all() as { kind: string; doc: string }[];
    raw.close();
    assert.match(rows.find((r) => r.kind === 'Secret')!.doc, /^sidestash:aes-256-gcm:v1:/);
    assert.equal(JSON.parse(rows.find((r) => r.kind === 'Repository')!.doc).kind, 'Repository', 'other kinds stay JSON');
    const again = new Store(db, { encryptionKey: key });
    assert.equal(again.opened.secretsSealed, 0);
    assert.equal((await again.get<{ stringData: Record<string, string> }, unknown>('Secret', 'default', 'db-creds'))!.spec.stringData.password, 'marker-pw-7c1f');
    again.close();
  });

  it('refuses to open with another key, naming the setting', async () => {
    const db = join(dir.path, 'wrongkey', 'c.db');
    new Store(db, { encryptionKey: keyOf() }).close();
    assert.throws(
      () => new Store(db, { encryptionKey: keyOf('SIDESTASH_ENCRYPTION_KEY_FILE (/etc/sidestash/encryption/key)') }),
      (err: unknown) => isSidestashError(err, 'SIDESTASH_INVALID_CONFIG') && /encrypted with another key than SIDESTASH_ENCRYPTION_KEY_FILE \(\/etc\/sidestash\/encryption\/key\)/.test(err.message),
    );
  });

  it('keeps a generated key file beside the database and uses it on the next start', async () => {
    const db = join(dir.path, 'keyfile', 'c.db');
    const first = new Store(db);
    assert.equal(first.opened.keyFileCreated, join(dir.path, 'keyfile', 'encryption.key'));
    await upsert(first, secret('s', 'pw-keyfile'));
    first.close();
    const second = new Store(db);
    assert.equal(second.opened.keyFileCreated, undefined);
    assert.equal((await second.get<{ stringData: Record<string, string> }, unknown>('Secret', 'default', 's'))!.spec.stringData.password, 'pw-keyfile');
    second.close();
    writeFileSync(join(dir.path, 'keyfile', 'encryption.key'), randomBytes(32).toString('base64'));
    await assert.rejects(async () => new Store(db), /encrypted with another key than the key file/);
  });

  it('cannot be swapped between rows: a ciphertext moved to another Secret fails to open', async () => {
    const db = join(dir.path, 'swap', 'c.db');
    const key = keyOf();
    const store = new Store(db, { encryptionKey: key });
    (await upsert(store, secret('a', 'pw-a')));
    (await upsert(store, secret('b', 'pw-b')));
    (await upsert(store, secret('a', 'pw-a-prod', 'prod')));
    store.close();
    const raw = new DatabaseSync(db);
    const docA = (raw.prepare("SELECT doc FROM resources WHERE kind = 'Secret' AND namespace = 'default' AND name = 'a'").get() as { doc: string }).doc;
    raw.prepare("UPDATE resources SET doc = ? WHERE kind = 'Secret' AND namespace = 'default' AND name = 'b'").run(docA);
    raw.prepare("UPDATE resources SET doc = ? WHERE kind = 'Secret' AND namespace = 'prod' AND name = 'a'").run(docA);
    raw.close();
    const reopened = new Store(db, { encryptionKey: key });
    try {
      assert.equal((await reopened.get<{ stringData: Record<string, string> }, unknown>('Secret', 'default', 'a'))!.spec.stringData.password, 'pw-a');
      for (const [ns, name] of [['default', 'b'], ['prod', 'a']] as const) {
        await assert.rejects(async () => reopened.get('Secret', ns, name), (err: unknown) => isSidestashError(err, 'SIDESTASH_CORRUPT_FILE') && err.message.includes(`${ns}/${name}`));
      }
    } finally {
      reopened.close();
    }
  });

  it('written in plaintext by an earlier version are sealed on opening and scrubbed from the file', async () => {
    const db = join(dir.path, 'legacy', 'c.db');
    mkdirSync(join(dir.path, 'legacy'));
    // The schema and writes of the version before encryption, with raw sqlite.
    const old = new DatabaseSync(db);
    old.exec(`PRAGMA journal_mode = WAL;
      CREATE TABLE resources (kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL, resource_version INTEGER NOT NULL, PRIMARY KEY (kind, namespace, name));
      CREATE TABLE agents (name TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL, targets TEXT NOT NULL, version TEXT NOT NULL, registered_at TEXT NOT NULL, last_seen_at TEXT NOT NULL);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
    const insert = old.prepare('INSERT INTO resources (kind, namespace, name, doc, resource_version) VALUES (?, ?, ?, ?, ?)');
    for (let i = 0; i < 3; i++) {
      const s = secret(`legacy-${i}`, `legacy-plaintext-pw-${i}`, i === 2 ? 'prod' : 'default');
      s.metadata.resourceVersion = String(i + 1);
      insert.run('Secret', s.metadata.namespace, s.metadata.name, JSON.stringify(s), i + 1);
    }
    insert.run('AppBinding', 'default', 'shop', JSON.stringify({ apiVersion: 'sidestash.io/v1', kind: 'AppBinding', metadata: { name: 'shop', namespace: 'default', resourceVersion: 4 }, spec: { clientConfig: { socket: '/s' }, secret: { name: 'legacy-0' } } }), 4);
    old.exec("INSERT INTO meta (key, value) VALUES ('resourceVersion', '4')");
    old.close();
    assert.ok(readFileSync(db).includes('legacy-plaintext-pw-0'), 'the old file holds the plaintext');

    const key = keyOf();
    const store = new Store(db, { encryptionKey: key });
    try {
      assert.equal(store.opened.secretsSealed, 3);
      for (const f of [db, `${db}-wal`, `${db}-shm`]) if (existsSync(f)) assert.ok(!readFileSync(f).includes('legacy-plaintext-pw'), `${f} still holds plaintext`);
      assert.deepEqual((await store.list<{ stringData: Record<string, string> }, unknown>('Secret')).map((s) => [s.metadata.namespace, s.spec.stringData.password]), [['default', 'legacy-plaintext-pw-0'], ['default', 'legacy-plaintext-pw-1'], ['prod', 'legacy-plaintext-pw-2']]);
      assert.equal((await store.get('AppBinding', 'default', 'shop'))!.metadata.resourceVersion, '4', 'versions are strings now (opaque, as in Kubernetes)');
      const updated = (await upsert(store, secret('legacy-1', 'new-pw')));
      assert.equal(updated.metadata.resourceVersion, '5');
    } finally {
      store.close();
    }
    const again = new Store(db, { encryptionKey: key });
    assert.equal(again.opened.secretsSealed, 0);
    assert.equal((await again.get<{ stringData: Record<string, string> }, unknown>('Secret', 'default', 'legacy-1'))!.spec.stringData.password, 'new-pw');
    again.close();
  });
});
