// TLS to MariaDB (AppBinding tls.caSecretName): against a server with a certificate, the
// agent's backup and restore connect over TLS and verify the server when a CA is configured,
// and refuse a server whose certificate another CA signed.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runBackup } from '../agent/backup-runner.ts';
import type { AgentConfig } from '../agent/config.ts';
import { runRestore } from '../agent/restore-runner.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { createLogger } from '../common/log.ts';
import type { BackupAssignment, DatabaseConnection } from '../common/protocol.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { DB_PASSWORD, DB_USER, checksums, createShop } from './helpers/shop-db.ts';
import { makeTestPki } from './helpers/tls.ts';
import type { TestPki } from './helpers/tls.ts';
import { testAgentConfig } from './helpers/agent-config.ts';
import { tempDir } from './helpers/tmp.ts';

const log = createLogger({}, { level: 'error' });

describe('TLS to MariaDB', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let db: MariaDB;
  let pki: TestPki;
  let otherCa: string;
  let config: AgentConfig;
  before(async () => {
    dir = await tempDir();
    await mkdir(join(dir.path, 'pki'));
    await mkdir(join(dir.path, 'other'));
    pki = await makeTestPki(join(dir.path, 'pki'));
    otherCa = (await makeTestPki(join(dir.path, 'other'))).caCert;
    db = await startMariaDB({ serverArgs: [`--ssl-cert=${pki.certFile}`, `--ssl-key=${pki.keyFile}`, `--ssl-ca=${join(dir.path, 'pki', 'ca.crt')}`] });
    await createShop(db, 2000);
    config = testAgentConfig(dir.path);
  });
  after(async () => {
    await db.stop();
    await dir.cleanup();
  });

  const sslAccepts = async (): Promise<number> => Number((await db.sql("SHOW GLOBAL STATUS LIKE 'Ssl_accepts'")).split('\t')[1]);
  const hooks = () => ({ signal: new AbortController().signal, log, onProgress: () => {} });
  const assignment = (database: DatabaseConnection, name: string): BackupAssignment => ({
    kind: 'BackupSession', namespace: 'default', name, invoker: 'cfg', target: 'default/db', repositoryName: 'repo', database,
    repository: { location: `local:${join(dir.path, 'repo')}`, password: 'tls-test', credentials: {} },
    dumpArgs: ['--databases', 'shop', 'crm', '--single-transaction'], snapshotHost: 'db', filename: 'dumpfile.sql',
  });

  it('backs up and restores over a verified TLS connection', async () => {
    const tcp: DatabaseConnection = { host: '127.0.0.1', port: db.port, username: DB_USER, password: DB_PASSWORD, caCert: pki.caCert };
    const before = await checksums(db);
    const accepts = await sslAccepts();
    const stored = await runBackup(config, assignment(tcp, 'tls-ok'), hooks());
    assert.equal(stored.phase, 'Succeeded');
    await db.sql('DROP DATABASE shop; DROP DATABASE crm');
    const restored = await runRestore(config, { kind: 'RestoreSession', namespace: 'default', name: 'tls-restore', target: 'default/db', repositoryName: 'repo', database: tcp, repository: assignment(tcp, 'x').repository, snapshot: stored.snapshotId!, snapshotHost: 'db' }, hooks());
    assert.equal(restored.phase, 'Succeeded');
    assert.equal(await checksums(db), before);
    // The size probe, mariadb-dump, and the restore's check and client each connected over TLS.
    assert.ok((await sslAccepts()) - accepts >= 4, `TLS handshakes: ${(await sslAccepts()) - accepts}`);
  });

  it('refuses a server whose certificate another CA signed, before anything is written', async () => {
    const wrong: DatabaseConnection = { host: '127.0.0.1', port: db.port, username: DB_USER, password: DB_PASSWORD, caCert: otherCa };
    await assert.rejects(runBackup(config, assignment(wrong, 'tls-wrong'), hooks()), (err) => isSidestashError(err, ErrorCodes.DATABASE_UNAVAILABLE) && /certificate|SSL|TLS/i.test(err.message));
    await assert.rejects(
      runRestore(config, { kind: 'RestoreSession', namespace: 'default', name: 'tls-wrong-restore', target: 'default/db', repositoryName: 'repo', database: wrong, repository: assignment(wrong, 'x').repository, snapshot: 'latest', snapshotHost: 'db' }, hooks()),
      (err) => isSidestashError(err, ErrorCodes.DATABASE_UNAVAILABLE) && /certificate|SSL|TLS/i.test(err.message),
    );
  });
});
