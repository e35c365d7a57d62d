// Reading one small table (1% of the dump) out of a large snapshot: with the dump index (range
// reads of the covering blobs) against streaming the whole dump through the same selection (a
// snapshot without an index). A generated mariadb-dump-shaped dump (SIDESTASH_BENCH_MIB, default
// 512) of one dominant table, the 1% table and a few small ones, stored by our writer with its
// index. Measures the selection's statements only (no server). Final line: a JSON summary.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { DumpIndexTap } from '../agent/dump-index-tap.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { Repository } from '../common/repository/repository.ts';
import { findSnapshotFile } from '../common/repository/snapshot-reader.ts';
import { findSnapshot } from '../common/repository/snapshot.ts';
import { SnapshotWriteStream } from '../common/repository/snapshot-writer.ts';
import { snapshotStatements } from '../common/sql-dump/snapshot-statements.ts';

const MiB = 1024 * 1024;
const total = Number(process.env.SIDESTASH_BENCH_MIB ?? 512) * MiB;

function* table(name: string, bytes: number, seed: number): Generator<Buffer> {
  yield Buffer.from(`\n--\n-- Table structure for table \`${name}\`\n--\n\nDROP TABLE IF EXISTS \`${name}\`;\nCREATE TABLE \`${name}\` (id int, v text);\nLOCK TABLES \`${name}\` WRITE;\n`);
  let id = seed;
  for (let done = 0; done < bytes; ) {
    const rows: string[] = [];
    for (let n = 0; n < 900; n++, id++) rows.push(`(${id},'${createHash('sha512').update(`${id}`).digest('hex')}${createHash('sha512').update(`${id + 1}`).digest('hex')}')`);
    const b = Buffer.from(`INSERT INTO \`${name}\` VALUES\n${rows.join(',\n')};\n`);
    done += b.length;
    yield b;
  }
  yield Buffer.from('UNLOCK TABLES;\n');
}

function* dump(): Generator<Buffer> {
  yield Buffer.from("/*!40101 SET NAMES utf8mb4 */;\n/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\nCREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop`;\n\nUSE `shop`;\n");
  yield* table('a_small', 64 * 1024, 1);
  yield* table('events', total * 0.96, 1_000_000);
  yield* table('orders', total * 0.01, 50_000_000);
  yield* table('z_small', 64 * 1024, 90_000_000);
}

const dir = await mkdtemp(join(tmpdir(), 'sidestash-granular-bench-'));
try {
  const repo = await Repository.init(new LocalBackend(dir), 'bench');
  const tap = new DumpIndexTap();
  const writer = new SnapshotWriteStream(repo, { filename: 'dumpfile.sql', extraFiles: () => tap.extraFiles('dumpfile.sql', (r) => { throw new Error(r); }) });
  await pipeline(Readable.from(dump()), tap, writer);
  const snapshot = await findSnapshot(repo, 'latest', {});
  const file = await findSnapshotFile(repo, snapshot);
  const blobs = file.node.content?.length ?? 0;
  const run = async (ignoreIndex: boolean) => {
    const r = await Repository.open(new LocalBackend(dir), 'bench');
    let loads = 0;
    const real = r.loadBlob.bind(r);
    r.loadBlob = (type, id, o) => {
      if (type === 'data') loads++;
      return real(type, id, o);
    };
    const t0 = performance.now();
    const s = await snapshotStatements(r, snapshot, file, { tables: [{ database: 'shop', table: 'orders' }] }, { ignoreIndex });
    let rows = 0;
    for await (const st of s.statements) if (st.what.kind === 'data') rows += st.what.rows;
    return { ms: performance.now() - t0, loads, rows };
  };
  const whole = await run(true);
  const indexed = await run(false);
  if (whole.rows !== indexed.rows) throw new Error(`rows differ: ${whole.rows} vs ${indexed.rows}`);
  process.stdout.write(`dump ${(file.sizeBytes / MiB).toFixed(0)} MiB in ${blobs} blobs; table orders: ${indexed.rows} rows\n`);
  process.stdout.write(`with the index: ${indexed.loads} blobs, ${indexed.ms.toFixed(0)} ms; whole dump: ${whole.loads} blobs, ${whole.ms.toFixed(0)} ms\n`);
  process.stdout.write(`${JSON.stringify({ dumpMiB: Math.round(file.sizeBytes / MiB), blobs, indexedBlobs: indexed.loads, wholeBlobs: whole.loads, indexedMs: Math.round(indexed.ms), wholeMs: Math.round(whole.ms), tableReadVsWhole: +(indexed.ms / whole.ms).toFixed(3) })}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
