// The benchmarks' generated MariaDB databases, filled on the server by INSERT ... SELECT from
// the sequence engine (no data crosses the client):
//   events:      one dominant table of ~1 KiB rows (text, numbers and random hex), the database
//                the backup benchmark has always measured;
//   many tables: 50 tables of mixed sizes and row shapes, a third with secondary keys, one of
//                them (ONE_PERCENT_TABLE) ~1% of the data, for single-table restores.
import type { MariaDB } from '../test/helpers/mariadb.ts';

/** Rows per INSERT ... SELECT. */
const BATCH_ROWS = 200_000;
const EVENT_ROW_BYTES = 1024;

const quoteName = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

/** `${database}.events`: ~`mib` MiB of ~1 KiB rows; returns the number of rows. */
export async function generateEvents(db: MariaDB, database: string, mib: number): Promise<number> {
  const rows = Math.ceil((mib * 1024 * 1024) / EVENT_ROW_BYTES);
  const table = `${quoteName(database)}.events`;
  await db.sql(`CREATE TABLE ${table} (id BIGINT PRIMARY KEY, created DATETIME, kind VARCHAR(20), amount DECIMAL(12,2), payload TEXT, token CHAR(64)) ENGINE=InnoDB`);
  for (let start = 0; start < rows; start += BATCH_ROWS) {
    const n = Math.min(BATCH_ROWS, rows - start);
    await db.sql(`INSERT INTO ${table} SELECT ${start} + seq, '2026-01-01' + INTERVAL (${start} + seq) SECOND, ELT(1 + seq % 4, 'order', 'refund', 'login', 'shipment'), (seq * 7919 % 1000000) / 100,
      CONCAT(REPEAT(CONCAT('customer ', seq % 9973, ' bought item ', seq % 613, '; '), 12), MD5(seq), SHA2(seq, 512), SHA2(seq + 1, 512)), SHA2(${start} + seq, 256) FROM seq_1_to_${n}`, database);
  }
  await db.sql(`ANALYZE TABLE ${table}`);
  return rows;
}

/** A row shape of the many-tables database: its columns, keys, one row's SELECT list (of `id`) and its size in the dump. */
interface Shape {
  columns: string;
  select: string;
  dumpRowBytes: number;
}

const SHAPES: Record<'orders' | 'documents' | 'counters', Shape> = {
  // ~150 bytes a row in the dump, two secondary keys.
  orders: {
    columns: 'id BIGINT PRIMARY KEY, customer_id INT NOT NULL, created DATETIME NOT NULL, amount DECIMAL(12,2), status VARCHAR(16), note VARCHAR(200), KEY (customer_id), KEY (created)',
    select: "id, id * 7919 % 100003, '2026-01-01' + INTERVAL id MINUTE, (id * 104729 % 10000000) / 100, ELT(1 + id % 5, 'new', 'paid', 'shipped', 'returned', 'cancelled'), CONCAT('order ', id, ': ', REPEAT(CHAR(97 + id % 26), 40 + id % 50))",
    dumpRowBytes: 150,
  },
  // ~1 KiB a row in the dump (text and hex, as the events table), no secondary key.
  documents: {
    columns: 'id BIGINT PRIMARY KEY, title VARCHAR(100), body TEXT, digest CHAR(64)',
    select: "id, CONCAT('document ', id), CONCAT(REPEAT(CONCAT('line ', id % 977, ' of text; '), 30), SHA2(id, 512)), SHA2(id, 256)",
    dumpRowBytes: 1000,
  },
  // ~40 bytes a row in the dump: many small rows, one composite secondary key.
  counters: {
    columns: 'id INT PRIMARY KEY, a INT NOT NULL, b INT NOT NULL, v DOUBLE, KEY (a, b)',
    select: 'id, id % 1009, id * 31 % 65521, id / 7',
    dumpRowBytes: 40,
  },
};

export const MANY_TABLES = 50;
/** The table that holds ~1% of the many-tables database's data (an orders-shaped table with secondary keys). */
export const ONE_PERCENT_TABLE = 't00_one_percent';

export interface GeneratedTable {
  name: string;
  rows: number;
}

/** The many-tables database's plan for ~`mib` MiB of dump: pure, so its sizes are the same in every run. */
export function planManyTables(mib: number): { name: string; shape: keyof typeof SHAPES; rows: number }[] {
  const total = mib * 1024 * 1024;
  const shapes = ['orders', 'documents', 'counters'] as const;
  // Weights 1..101, mixed: a few tables hold most of the data, many are small.
  const weights = Array.from({ length: MANY_TABLES - 1 }, (_, i) => 1 + ((i * 37) % 11) ** 2);
  const sum = weights.reduce((a, b) => a + b, 0);
  const plan: { name: string; shape: keyof typeof SHAPES; bytes: number }[] = [{ name: ONE_PERCENT_TABLE, shape: 'orders', bytes: total * 0.01 }];
  weights.forEach((w, i) => plan.push({ name: `t${String(i + 1).padStart(2, '0')}_${shapes[i % 3]}`, shape: shapes[i % 3]!, bytes: (total * 0.99 * w) / sum }));
  return plan.map(({ name, shape, bytes }) => ({ name, shape, rows: Math.max(1, Math.round(bytes / SHAPES[shape].dumpRowBytes)) }));
}

/** `database` with the tables of planManyTables(mib); the database must exist. */
export async function generateManyTables(db: MariaDB, database: string, mib: number): Promise<GeneratedTable[]> {
  const tables: GeneratedTable[] = [];
  for (const { name, shape, rows } of planManyTables(mib)) {
    const table = `${quoteName(database)}.${quoteName(name)}`;
    await db.sql(`CREATE TABLE ${table} (${SHAPES[shape].columns}) ENGINE=InnoDB`);
    for (let start = 0; start < rows; start += BATCH_ROWS) {
      const n = Math.min(BATCH_ROWS, rows - start);
      await db.sql(`INSERT INTO ${table} SELECT ${SHAPES[shape].select} FROM (SELECT ${start} + seq AS id FROM seq_1_to_${n}) AS s`, database);
    }
    tables.push({ name, rows });
  }
  await db.sql(`ANALYZE TABLE ${tables.map((t) => `${quoteName(database)}.${quoteName(t.name)}`).join(', ')}`);
  return tables;
}
