// Granular restore on real MariaDB, restic and the agent's backup runner: the backup stores the
// dump index beside the dump (restic still dumps exactly the dump, checks the snapshot, lists
// both files); the index matches the databases; a table read by range loads only the blobs that
// cover it; tables restored into another database name load with `mariadb`, equal the originals
// and leave the originals untouched; a Stash-style snapshot (restic backup --stdin, no index) and
// a snapshot with a spoiled index give the same statements by streaming.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { runBackup } from '../agent/backup-runner.ts';
import { runRestore } from '../agent/restore-runner.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { createLogger } from '../common/log.ts';
import type { BackupAssignment, RestoreAssignment } from '../common/protocol.ts';
import { blobSpans } from '../common/repository/file-range-reader.ts';
import { Repository } from '../common/repository/repository.ts';
import { findSnapshotFile } from '../common/repository/snapshot-reader.ts';
import { findSnapshot } from '../common/repository/snapshot.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { DumpIndexBuilder } from '../common/sql-dump/dump-index.ts';
import type { DumpIndex } from '../common/sql-dump/dump-index.ts';
import { encodeDumpIndex } from '../common/sql-dump/dump-index-json.ts';
import type { DumpSelection } from '../common/sql-dump/dump-selection.ts';
import { splitDump } from '../common/sql-dump/dump-statements.ts';
import { renderSql } from '../common/sql-dump/render-sql.ts';
import { loadDumpIndex, snapshotStatements } from '../common/sql-dump/snapshot-statements.ts';
import type { SnapshotStatementsOptions } from '../common/sql-dump/snapshot-statements.ts';
import { DEFAULT_DUMP_ARGS } from '../controller/resources/types.ts';
import { testAgentConfig } from './helpers/agent-config.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { RESTIC_0_19, restic, runRestic } from './helpers/restic.ts';
import { DB_PASSWORD, DB_USER, createShop } from './helpers/shop-db.ts';
import { tempDir } from './helpers/tmp.ts';
import { runCliProcess } from './helpers/cli-process.ts';

const log = createLogger({}, { level: 'error' });
const PASSWORD = 'granular-test';

async function resticDumpBytes(repo: string, args: string[]): Promise<Buffer> {
  const child = spawn('restic', ['-r', repo, '--no-cache', ...args], { env: { ...process.env, RESTIC_PASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'inherit'] });
  const parts: Buffer[] = [];
  for await (const c of child.stdout!) parts.push(c as Buffer);
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  assert.equal(code, 0);
  return Buffer.concat(parts);
}

/** Loads SQL into the server with the agent's restore client settings. */
async function load(db: MariaDB, sql: AsyncIterable<Buffer>): Promise<void> {
  const child = spawn('mariadb', ['--no-defaults', '-uroot', `--socket=${db.socket}`, '--binary-mode', '--sandbox', '--local-infile=0'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  await pipeline(Readable.from(sql), child.stdin!);
  assert.equal(await code, 0, stderr);
}

async function statementTexts(src: AsyncIterable<{ text?: Buffer }>): Promise<string[]> {
  const out: string[] = [];
  for await (const st of src) out.push(st.text!.toString('latin1'));
  return out;
}

describe('granular restore', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let db: MariaDB;
  let repoPath: string;
  let repo: Repository;
  let dump: Buffer;
  let index: DumpIndex;
  const sums = (tables: string) => db.sql(`CHECKSUM TABLE ${tables} EXTENDED`).then((s) => s.replace(/^\S+\t/gm, ''));
  const open = async () => {
    const snapshot = await findSnapshot(repo, 'latest', {});
    return { snapshot, file: await findSnapshotFile(repo, snapshot) };
  };

  before(async () => {
    dir = await tempDir();
    db = await startMariaDB();
    await createShop(db, 20_000);
    await db.sql(`CREATE TABLE shop.empty_t (id INT) ENGINE=InnoDB;
      CREATE TABLE shop.audit (n INT) ENGINE=InnoDB;
      SET NAMES utf8mb4; CREATE TABLE shop.notes (id INT PRIMARY KEY, t TEXT) DEFAULT CHARSET=utf8mb4;
      INSERT INTO shop.notes VALUES (1, 'quote '' backslash \\\\ newline \\n ümlaut 😀'), (2, 'it\\'s; DELIMITER ;;');
      CREATE TRIGGER shop.orders_ai AFTER INSERT ON shop.orders FOR EACH ROW INSERT INTO shop.audit VALUES (NEW.id);
      CREATE TRIGGER shop.customers_bi BEFORE INSERT ON shop.customers FOR EACH ROW SET NEW.name = TRIM(NEW.name);
      CREATE VIEW shop.big_orders AS SELECT * FROM shop.orders WHERE amount > 900;
      CREATE PROCEDURE shop.p1() SELECT COUNT(*) FROM orders;
      CREATE EVENT shop.e1 ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM audit;
      CREATE DATABASE big; CREATE TABLE big.filler (id INT PRIMARY KEY, v VARCHAR(700)) ENGINE=InnoDB;`);
    // About 20 MB of data that does not deduplicate: the dump spans many blobs.
    await db.sql('INSERT INTO big.filler SELECT seq, HEX(RANDOM_BYTES(320)) FROM seq_1_to_30000', 'big');
    repoPath = join(dir.path, 'repo');
    const a: BackupAssignment = {
      kind: 'BackupSession', namespace: 'default', name: 'b1', invoker: 'cfg', target: 'default/db', repositoryName: 'repo',
      database: { socket: db.socket, username: DB_USER, password: DB_PASSWORD },
      repository: { location: `local:${repoPath}`, password: PASSWORD, credentials: {} },
      dumpArgs: DEFAULT_DUMP_ARGS, snapshotHost: 'db', filename: 'dumpfile.sql',
    };
    const r = await runBackup(testAgentConfig(dir.path), a, { signal: new AbortController().signal, log, onProgress: () => {} });
    assert.equal(r.phase, 'Succeeded');
    repo = await Repository.open(new LocalBackend(repoPath), PASSWORD);
    dump = await resticDumpBytes(repoPath, ['dump', 'latest', '/dumpfile.sql']);
    const { snapshot, file } = await open();
    const loaded = await loadDumpIndex(repo, snapshot, file);
    assert.ok(loaded.index, loaded.problem);
    index = loaded.index;
  });
  after(async () => {
    await db.stop();
    await dir.cleanup();
  });

  it('stores the index beside the dump: restic dumps exactly the dump, checks the snapshot and lists both files (0.14 and 0.19)', async () => {
    const { file } = await open();
    assert.equal(file.path, '/dumpfile.sql', 'without a path the dump, not its index');
    assert.equal(dump.length, file.sizeBytes);
    // The index is of exactly these bytes: built again from restic's dump, it is the same.
    const again = new DumpIndexBuilder();
    for await (const st of splitDump(Readable.from([dump]))) again.add(st);
    assert.deepEqual(again.finish(dump.length), { ok: true, index });
    for (const bin of ['restic', RESTIC_0_19]) {
      const check = await runRestic(bin, repoPath, PASSWORD, ['check', '--read-data']);
      assert.equal(check.code, 0, check.stderr);
      const ls = await runRestic(bin, repoPath, PASSWORD, ['ls', 'latest']);
      assert.deepEqual(ls.stdout.trim().split('\n').filter((l) => l.startsWith('/')), ['/dumpfile.sql', '/dumpfile.sql.index.json']);
      const idx = await runRestic(bin, repoPath, PASSWORD, ['dump', 'latest', '/dumpfile.sql.index.json']);
      assert.deepEqual(JSON.parse(idx.stdout), index);
    }
    // The two-node tree re-encodes byte for byte (restic-rewrite.test.ts's check, for this tree).
    const rewrite = await runRestic(RESTIC_0_19, repoPath, PASSWORD, ['rewrite', '--exclude', '/nonexistent']);
    assert.equal(rewrite.code, 0, rewrite.stderr + rewrite.stdout);
    assert.doesNotMatch(rewrite.stderr + rewrite.stdout, /cannot encode|saved new snapshot/);
    const repair = await runRestic(RESTIC_0_19, repoPath, PASSWORD, ['repair', 'snapshots']);
    assert.match(repair.stdout, /no snapshots were modified/);
  });

  it('indexes every database and table with the row counts of the server, triggers with their tables, views, routines, events', async () => {
    const shop = index.databases.find((d) => d.name === 'shop')!;
    const counts = (await db.sql("SELECT table_name, table_rows FROM information_schema.tables WHERE table_schema='shop' AND table_type='BASE TABLE'")).trim().split('\n').map((l) => l.split('\t')[0]!);
    for (const t of counts) {
      const rows = Number((await db.sql(`SELECT COUNT(*) FROM shop.\`${t}\``)).trim());
      assert.equal(shop.tables.find((x) => x.name === t)?.rows, rows, t);
    }
    assert.deepEqual(shop.tables.map((t) => t.name).sort(), [...counts].sort());
    assert.deepEqual(shop.objects.map((o) => `${o.kind}:${o.name}:${o.table ?? ''}`).sort(), ['event:e1:', 'routine:p1:', 'trigger:customers_bi:customers', 'trigger:orders_ai:orders', 'view:big_orders:'].sort());
    assert.equal(index.databases.find((d) => d.name === 'big')!.tables[0]!.rows, 30_000);
    assert.ok(index.databases.some((d) => d.name === 'crm' && d.tables[0]!.name === 'contacts' && d.tables[0]!.rows === 2));
  });

  it('reads one table by range, loading only the blobs that cover the plan', async () => {
    const { snapshot, file } = await open();
    const spans = await blobSpans(repo, file);
    assert.ok(spans.length >= 10, `${spans.length} blobs`);
    const loaded: string[] = [];
    const real = repo.loadBlob.bind(repo);
    repo.loadBlob = (type, id, o) => {
      loaded.push(id);
      return real(type, id, o);
    };
    try {
      const s = await snapshotStatements(repo, snapshot, file, { tables: [{ database: 'crm', table: 'contacts' }] });
      const texts = await statementTexts(s.statements);
      assert.ok(texts.some((t) => t.startsWith('INSERT INTO `contacts`')));
      const covering = new Set(spans.filter((b) => s.plan!.ranges.some(([st, e]) => b.start < e && st < b.end)).map((b) => b.id));
      const dataLoads = loaded.filter((id) => spans.some((b) => b.id === id));
      assert.deepEqual(new Set(dataLoads), covering);
      assert.equal(dataLoads.length, covering.size, 'each blob once');
      assert.ok(covering.size < spans.length / 3, `${covering.size} of ${spans.length} blobs`);
    } finally {
      repo.loadBlob = real;
    }
  });

  it('restores tables into another database next to the original, which stays untouched', async () => {
    const before = await sums('shop.orders, shop.customers, shop.audit');
    const triggersBefore = await db.sql("SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema='shop' ORDER BY 1");
    const { snapshot, file } = await open();
    const warnings: string[] = [];
    const s = await snapshotStatements(repo, snapshot, file, { tables: [{ database: 'shop', table: 'orders' }, { database: 'shop', table: 'customers' }], as: 'shop_restored' }, { onWarning: (w) => warnings.push(w.message) });
    await load(db, renderSql(s.statements));
    assert.equal(await sums('shop_restored.orders, shop_restored.customers'), before.split('\n').slice(0, 2).join('\n') + '\n');
    assert.equal(await sums('shop.orders, shop.customers, shop.audit'), before);
    assert.equal(await db.sql("SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema='shop' ORDER BY 1"), triggersBefore);
    assert.equal(await db.sql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='shop_restored'"), '2\n');
    // mariadb-dump writes triggers with the names as created (shop.orders_ai ON shop.orders): left out, said so.
    assert.equal(warnings.length, 2);
    assert.match(warnings.join('\n'), /trigger orders_ai.*names the original database "shop"/);
  });

  it('restores a whole database into another name: tables, views, routines, events, with the same checksums', async () => {
    const { snapshot, file } = await open();
    const s = await snapshotStatements(repo, snapshot, file, { database: 'crm', as: 'crm2' });
    await load(db, renderSql(s.statements));
    assert.equal(await sums('crm2.contacts'), await sums('crm.contacts'));
    const s2 = await snapshotStatements(repo, snapshot, file, { database: 'shop', as: 'shop3' }, { onWarning: () => {} });
    await load(db, renderSql(s2.statements));
    assert.equal(await db.sql("SELECT table_name FROM information_schema.views WHERE table_schema='shop3'"), 'big_orders\n');
    assert.equal(await db.sql("SELECT routine_name FROM information_schema.routines WHERE routine_schema='shop3'"), 'p1\n');
    assert.equal(await db.sql("SELECT event_name FROM information_schema.events WHERE event_schema='shop3'"), 'e1\n');
    assert.equal(await sums('shop3.orders, shop3.empty_t'), await sums('shop.orders, shop.empty_t'));
  });

  it('the agent restores tables into another database (RestoreSession spec.tables, spec.targetDatabase)', async () => {
    const before = await sums('shop.orders, shop.customers, shop.notes');
    const a: RestoreAssignment = {
      kind: 'RestoreSession', namespace: 'default', name: 'r1', target: 'default/db', repositoryName: 'repo',
      database: { socket: db.socket, username: DB_USER, password: DB_PASSWORD },
      repository: { location: `local:${repoPath}`, password: PASSWORD, credentials: {} },
      snapshot: 'latest', snapshotHost: 'db', tables: ['shop.notes', 'shop.orders'], targetDatabase: 'agent_restored',
    };
    const r = await runRestore(testAgentConfig(dir.path), a, { signal: new AbortController().signal, log, onProgress: () => {} });
    assert.equal(r.phase, 'Succeeded');
    assert.equal(await sums('agent_restored.orders, agent_restored.notes'), await sums('shop.orders, shop.notes'));
    assert.equal(await db.sql("SELECT GROUP_CONCAT(table_name ORDER BY 1) FROM information_schema.tables WHERE table_schema='agent_restored'"), 'notes,orders\n');
    assert.equal(await sums('shop.orders, shop.customers, shop.notes'), before);
    await assert.rejects(runRestore(testAgentConfig(dir.path), { ...a, tables: ['shop.gone'] }, { signal: new AbortController().signal, log, onProgress: () => {} }), (err) => isSidestashError(err, ErrorCodes.NOT_IN_SNAPSHOT) && /table shop\.gone is not in the snapshot/.test(err.message));
  });

  it('repo dump --table prints SQL that loads with mariadb and equals the tables; the whole file without options', async () => {
    const env = { RESTIC_PASSWORD: PASSWORD };
    const out = await runCliProcess(['repo', 'dump', '-r', repoPath, 'latest', '--table', 'shop.notes', '--table', 'shop.customers', '--as', 'cli_db'], { env });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^\/\*M!999999\\- enable the sandbox mode \*\/ [\s\S]*SET NAMES (?:utf8mb4|binary)[\s\S]*CREATE DATABASE IF NOT EXISTS `cli_db`[^;]*;\nUSE `cli_db`;\n/);
    assert.match(out.stderr, /warning: left out the statement at byte \d+ \(trigger customers_bi\)/);
    await load(db, Readable.from([Buffer.from(out.stdout)]));
    assert.equal(await sums('cli_db.notes, cli_db.customers'), await sums('shop.notes, shop.customers'));
    const shop = await runCliProcess(['repo', 'dump', '-r', repoPath, 'latest', '/dumpfile.sql', '--database', 'shop'], { env });
    assert.equal(shop.code, 0, shop.stderr);
    assert.doesNotMatch(shop.stdout, /`crm`|`mysql`|`big`|DROP DATABASE/);
    assert.match(shop.stdout, /USE `shop`;\n[\s\S]*INSERT INTO `orders`[\s\S]*\nDELIMITER ;;\n\/\*!50003 CREATE\*\/ [^\n]*TRIGGER shop\.orders_ai [\s\S]*;;\nDELIMITER ;\n/);
    const missing = await runCliProcess(['repo', 'dump', '-r', repoPath, 'latest', '--table', 'crm.nope'], { env });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /table crm\.nope is not in the snapshot; database crm has tables contacts/);
    assert.equal(missing.stdout, '');
  });

  it('fails NOT_IN_SNAPSHOT naming the contents, from the index before reading the dump', async () => {
    const { snapshot, file } = await open();
    await assert.rejects(snapshotStatements(repo, snapshot, file, { tables: [{ database: 'shop', table: 'nope' }] }), (err) => isSidestashError(err, ErrorCodes.NOT_IN_SNAPSHOT) && /^table shop\.nope is not in the snapshot; database shop has tables audit, customers, empty_t, notes, orders$/.test(err.message));
  });

  it('gives the same statements without an index (restic backup --stdin) and with a spoiled one (a warning)', async () => {
    const stash = join(dir.path, 'stash');
    const dumpFile = join(dir.path, 'dump.sql');
    await writeFile(dumpFile, dump);
    assert.equal((await restic(stash, PASSWORD, ['init'])).code, 0);
    assert.equal((await restic(stash, PASSWORD, ['backup', '--stdin', '--stdin-filename', 'dumpfile.sql'], createReadStream(dumpFile))).code, 0);
    const spoiled = join(dir.path, 'spoiled');
    const bad = structuredClone(index);
    bad.databases[0]!.tables[0]!.data = [[dump.length - 5, dump.length + 5]];
    const spoiledRepo = await Repository.init(new LocalBackend(spoiled), PASSWORD);
    await writeSnapshot(spoiledRepo, Readable.from([dump]), { filename: 'dumpfile.sql', extraFiles: () => [{ name: 'dumpfile.sql.index.json', content: encodeDumpIndex(bad) }] });
    const selections: DumpSelection[] = [{ tables: [{ database: 'shop', table: 'orders' }], as: 'x' }, { database: 'crm' }];
    for (const sel of selections) {
      const statementsOf = async (r: Repository, opts: SnapshotStatementsOptions = {}) => {
        const snapshot = await findSnapshot(r, 'latest', {});
        const s = await snapshotStatements(r, snapshot, await findSnapshotFile(r, snapshot), sel, { onWarning: () => {}, ...opts });
        return { plan: s.plan, texts: await statementTexts(s.statements) };
      };
      const indexed = await statementsOf(repo);
      assert.ok(indexed.plan);
      const plain = await statementsOf(await Repository.open(new LocalBackend(stash), PASSWORD));
      assert.equal(plain.plan, undefined);
      assert.deepEqual(plain.texts, indexed.texts);
      const warnings: string[] = [];
      const fromSpoiled = await statementsOf(await Repository.open(new LocalBackend(spoiled), PASSWORD), { onWarning: (w) => warnings.push(w.message) });
      assert.equal(fromSpoiled.plan, undefined);
      assert.deepEqual(fromSpoiled.texts, indexed.texts);
      assert.match(warnings.join('\n'), /dump index is unusable .*not a range inside the dump/);
    }
  });
});
