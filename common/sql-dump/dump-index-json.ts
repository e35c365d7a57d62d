// The dump index as a file (FORMAT.md, "Dump index"), and back. Read back it is untrusted input:
// anyone with the repository password can write a snapshot. Every field is checked against an
// allow-list of shapes and bounds, every range must lie inside the dump and no two may overlap;
// anything else makes the index unusable (the caller streams the whole dump instead), never a
// restore of the wrong bytes.
import { DUMP_INDEX_FORMAT, DUMP_INDEX_VERSION } from './dump-index.ts';
import type { ByteRange, DumpIndex, IndexedDatabase, IndexedObject, IndexedTable } from './dump-index.ts';

/** An index file larger than this is not read (mariadb-dump's index of 100,000 tables is about 10 MiB). */
export const MAX_INDEX_FILE_BYTES = 16 * 1024 * 1024;
const MAX_DATABASES = 100_000;
const MAX_TABLES = 200_000;
const MAX_RANGES = 250_000;
/** Each range covers at least a statement of the dump: far fewer than one per this many bytes. */
const MIN_BYTES_PER_RANGE = 16;

/** The ranges (and tables) an index of a dump of `dumpBytes` may hold: the agent keeps them all in memory. */
export function maxIndexRanges(dumpBytes: number): number {
  return Math.min(MAX_RANGES, Math.max(64, Math.floor(dumpBytes / MIN_BYTES_PER_RANGE)));
}
const MAX_NAME_CHARS = 256;
const OBJECT_KINDS = new Set(['view', 'trigger', 'routine', 'event']);

export function encodeDumpIndex(index: DumpIndex): Buffer {
  return Buffer.from(`${JSON.stringify(index)}\n`);
}

export type ParsedDumpIndex = { ok: true; index: DumpIndex } | { ok: false; problem: string };

class Invalid extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function only(v: Record<string, unknown>, keys: readonly string[], where: string): void {
  for (const k of Object.keys(v)) if (!keys.includes(k)) throw new Invalid(`${where}: unknown field ${JSON.stringify(k).slice(0, 80)}`);
}

function name(v: unknown, where: string, allowEmpty = false): string {
  if (typeof v !== 'string' || (!allowEmpty && v.length === 0) || v.length > MAX_NAME_CHARS || v.includes('\0')) throw new Invalid(`${where}: not a name of 1 to ${MAX_NAME_CHARS} characters`);
  return v;
}

function count(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Invalid(`${where}: not a count`);
  return v;
}

export function parseDumpIndex(bytes: Buffer, dumpBytes: number): ParsedDumpIndex {
  if (bytes.length > MAX_INDEX_FILE_BYTES) return { ok: false, problem: `the index file is larger than ${MAX_INDEX_FILE_BYTES} bytes` };
  // JSON.parse builds every list before any bound is checked: count them first. A range is a
  // list, and an index has about as many other lists (a table's structure and data) as ranges.
  const limit = maxIndexRanges(dumpBytes);
  let lists = 0;
  for (let at = bytes.indexOf(0x5b); at >= 0; at = bytes.indexOf(0x5b, at + 1)) {
    if (++lists > 4 * limit + 64) return { ok: false, problem: `more than ${4 * limit + 64} lists for a dump of ${dumpBytes} bytes` };
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ok: false, problem: 'the index file is not JSON' };
  }
  try {
    return { ok: true, index: validate(json, dumpBytes, limit) };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, problem: err.message };
    throw err;
  }
}

function validate(json: unknown, dumpBytes: number, maxRanges: number): DumpIndex {
  if (!isObject(json)) throw new Invalid('not an object');
  if (json.format !== DUMP_INDEX_FORMAT) throw new Invalid('format: not a sidestash dump index');
  if (json.version !== DUMP_INDEX_VERSION) throw new Invalid(`version: ${JSON.stringify(json.version)?.slice(0, 20)} is not ${DUMP_INDEX_VERSION}`);
  only(json, ['format', 'version', 'dumpBytes', 'header', 'databases'], 'index');
  if (json.dumpBytes !== dumpBytes) throw new Invalid(`dumpBytes: ${String(json.dumpBytes).slice(0, 20)} is not the dump's size ${dumpBytes}`);
  const all: ByteRange[] = [];
  const ranges = (v: unknown, where: string): ByteRange[] => {
    if (!Array.isArray(v)) throw new Invalid(`${where}: not a list of ranges`);
    if (all.length + v.length > maxRanges) throw new Invalid(`more than ${maxRanges} ranges for a dump of ${dumpBytes} bytes`);
    const out: ByteRange[] = [];
    for (const [i, r] of v.entries()) {
      if (!Array.isArray(r) || r.length !== 2) throw new Invalid(`${where}[${i}]: not a [start, end] pair`);
      const [s, e] = [count(r[0], `${where}[${i}][0]`), count(r[1], `${where}[${i}][1]`)];
      if (s >= e || e > dumpBytes) throw new Invalid(`${where}[${i}]: [${s}, ${e}] is not a range inside the dump's ${dumpBytes} bytes`);
      const prev = out[out.length - 1];
      if (prev && s < prev[1]) throw new Invalid(`${where}[${i}]: ranges out of order`);
      out.push([s, e]);
      all.push(out[out.length - 1]!);
    }
    return out;
  };
  const header = ranges(json.header, 'header');
  if (!Array.isArray(json.databases) || json.databases.length > MAX_DATABASES) throw new Invalid(`databases: not a list of at most ${MAX_DATABASES}`);
  const dbNames = new Set<string>();
  let tableCount = 0;
  const databases: IndexedDatabase[] = json.databases.map((d: unknown, i: number): IndexedDatabase => {
    const at = `databases[${i}]`;
    if (!isObject(d)) throw new Invalid(`${at}: not an object`);
    only(d, ['name', 'statements', 'tables', 'objects'], at);
    const dbName = name(d.name, `${at}.name`, true);
    if (dbNames.has(dbName)) throw new Invalid(`${at}.name: ${JSON.stringify(dbName)} twice`);
    dbNames.add(dbName);
    if (!Array.isArray(d.tables) || !Array.isArray(d.objects)) throw new Invalid(`${at}: tables and objects must be lists`);
    tableCount += d.tables.length + d.objects.length;
    if (tableCount > Math.min(MAX_TABLES, maxRanges)) throw new Invalid(`more than ${Math.min(MAX_TABLES, maxRanges)} tables and objects for a dump of ${dumpBytes} bytes`);
    const tableNames = new Set<string>();
    const tables = d.tables.map((t: unknown, k: number): IndexedTable => {
      const tt = `${at}.tables[${k}]`;
      if (!isObject(t)) throw new Invalid(`${tt}: not an object`);
      only(t, ['name', 'structure', 'data', 'rows'], tt);
      const n = name(t.name, `${tt}.name`);
      if (tableNames.has(n)) throw new Invalid(`${tt}.name: ${JSON.stringify(n)} twice`);
      tableNames.add(n);
      return { name: n, structure: ranges(t.structure, `${tt}.structure`), data: ranges(t.data, `${tt}.data`), rows: count(t.rows, `${tt}.rows`) };
    });
    const objects = d.objects.map((o: unknown, k: number): IndexedObject => {
      const ot = `${at}.objects[${k}]`;
      if (!isObject(o)) throw new Invalid(`${ot}: not an object`);
      only(o, ['kind', 'name', 'table', 'ranges'], ot);
      if (typeof o.kind !== 'string' || !OBJECT_KINDS.has(o.kind)) throw new Invalid(`${ot}.kind: not one of ${[...OBJECT_KINDS].join(', ')}`);
      const out: IndexedObject = { kind: o.kind as IndexedObject['kind'], name: name(o.name, `${ot}.name`), ranges: ranges(o.ranges, `${ot}.ranges`) };
      if (o.table !== undefined) {
        if (o.kind !== 'trigger') throw new Invalid(`${ot}.table: only a trigger has a table`);
        out.table = name(o.table, `${ot}.table`);
      }
      return out;
    });
    return { name: dbName, statements: ranges(d.statements, `${at}.statements`), tables, objects };
  });
  // No byte belongs to two sections.
  all.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < all.length; i++) if (all[i]![0] < all[i - 1]![1]) throw new Invalid(`ranges overlap at byte ${all[i]![0]}`);
  return { format: DUMP_INDEX_FORMAT, version: DUMP_INDEX_VERSION, dumpBytes, header, databases };
}
