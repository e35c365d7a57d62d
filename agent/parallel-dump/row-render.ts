// A row's values as SQL literals, exactly as the server holds them. Two renderings:
// - 'client' (the default): the SELECT names the columns, mysql2 hands over each value as the
//   server's bytes (text protocol, character set binary: the bytes stored, time zone '+00:00'), and they are copied into the
//   dump here: numbers (integers, DECIMAL, FLOAT/DOUBLE, YEAR) as the server wrote them, which is
//   what mariadb-dump writes; strings quoted with mysql_real_escape_string's escapes (NUL, \n,
//   \r, \, ', ", ^Z: every INSERT stays on its lines, as mariadb-dump's); binary strings, BLOBs
//   and GEOMETRY as their bytes with the same escapes behind _binary (mariadb-dump writes them
//   raw: the same size, where --hex-blob doubles it and a large BLOB's statement could pass the
//   restoring server's max_allowed_packet), every byte value exact; BIT as 0x hex; NULL as NULL.
// - 'server': the server renders each row (QUOTE(), HEX() in one CONCAT per row) and the dumper
//   only copies it. Measured (bench/parallel-dump-render.bench.ts, the events table, 128 MiB,
//   2 connections, medians of 3 runs, load ~1.5, with the packet path of row-render-wasm.ts):
//   client 0.34 s wall (dumper 0.38 CPU-s, mariadbd 0.17), server 0.71 s (dumper 0.43,
//   mariadbd 0.54): the server's QUOTE/REPLACE/CONCAT costs it three times what reading the
//   values does, and the copy-and-escape here costs less than the dumper saves by copying the
//   server's rendering. (Before the packet path: client 0.77 s wall, dumper 0.58 CPU-s; server
//   3.11 s, mariadbd 2.17 CPU-s on a loaded machine.) A row's CONCAT is also bounded by
//   max_allowed_packet (NULL past it), so 'server' fails on rows near that size.
// The dumper's rows take row-render-wasm.ts's way (the same output, from the server's packets,
// without a Buffer per value); renderRow renders the rows too large for it and mysql2's rows.
// Pure, apart from the Buffers it writes.
import { escapeScanner } from './escape-scan-wasm.ts';
import { quoteName } from './sql-text.ts';

export type ColumnKind = 'number' | 'string' | 'binary' | 'bit';
export type RenderMode = 'client' | 'server';

export interface ColumnInfo {
  name: string;
  kind: ColumnKind;
}

const NUMBER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'decimal', 'numeric', 'float', 'double', 'real', 'year']);
const BINARY_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection']);

/** A column's rendering from information_schema.COLUMNS' DATA_TYPE and CHARACTER_SET_NAME. */
export function classifyColumn(dataType: string, charset: string | null): ColumnKind {
  const t = dataType.toLowerCase();
  if (NUMBER_TYPES.has(t)) return 'number';
  if (t === 'bit') return 'bit';
  if (BINARY_TYPES.has(t) || charset?.toLowerCase() === 'binary') return 'binary';
  // Strings, ENUM, SET, JSON (longtext), dates and times, INET6, UUID: their text form, quoted.
  return 'string';
}

/** The SELECT list for a table's columns. */
export function selectList(columns: readonly ColumnInfo[], mode: RenderMode): string {
  if (mode === 'client') return columns.map((c) => quoteName(c.name)).join(', ');
  const parts = columns.map((c) => {
    const n = quoteName(c.name);
    switch (c.kind) {
      case 'number':
        return `IFNULL(${n}, 'NULL')`;
      case 'bit':
        return `IFNULL(CONCAT('0x', HEX(${n})), 'NULL')`;
      case 'binary':
        return `IF(${n} IS NULL, 'NULL', IF(LENGTH(${n}) = 0, '''''', CONCAT('0x', HEX(${n}))))`;
      case 'string':
        // QUOTE() leaves CR and LF as they are; the mariadb client drops a CR before a LF even
        // inside a string, so both are escaped as mariadb-dump escapes them.
        return `REPLACE(REPLACE(QUOTE(CONVERT(${n} USING binary)), '\\r', '\\\\r'), '\\n', '\\\\n')`;
    }
  });
  return `CONCAT('(', ${parts.join(", ',', ")}, ')')`;
}

/** Escapes of mysql_real_escape_string: the byte to write after a backslash, 0 for none. */
const ESCAPE = new Uint8Array(256);
ESCAPE[0x00] = 0x30; // \0
ESCAPE[0x0a] = 0x6e; // \n
ESCAPE[0x0d] = 0x72; // \r
ESCAPE[0x5c] = 0x5c; // \\
ESCAPE[0x27] = 0x27; // \'
ESCAPE[0x22] = 0x22; // \"
ESCAPE[0x1a] = 0x5a; // \Z

const NULL_BYTES = Buffer.from('NULL');
const BINARY_INTRODUCER = Buffer.from("_binary'");

/** The most bytes a row's rendering can take (every byte escaped or hex, behind _binary' at most). */
export function maxRenderedBytes(row: readonly (Buffer | null)[]): number {
  let n = 2;
  for (const v of row) n += 10 + (v === null ? 0 : 2 * v.length);
  return n;
}

/**
 * Writes "(v1,v2,...)" into out at pos (capacity: maxRenderedBytes(row)); returns the new pos.
 * In 'server' mode the row is the server's one rendered field, copied as it is.
 */
export function renderRow(row: readonly (Buffer | null)[], kinds: readonly ColumnKind[], mode: RenderMode, out: Buffer, pos: number): number {
  if (mode === 'server') {
    const v = row[0];
    // CONCAT past max_allowed_packet gives NULL (and a warning); a rendered row is never NULL otherwise.
    if (!v) throw new Error("a row's rendering by the server exceeded its max_allowed_packet");
    out.set(v, pos);
    return pos + v.length;
  }
  out[pos++] = 0x28;
  for (let c = 0; c < row.length; c++) {
    if (c > 0) out[pos++] = 0x2c;
    const v = row[c]!;
    if (v === null) {
      out.set(NULL_BYTES, pos);
      pos += NULL_BYTES.length;
      continue;
    }
    switch (kinds[c]) {
      case 'number':
        out.set(v, pos);
        pos += v.length;
        break;
      case 'string':
        out[pos++] = 0x27;
        pos = escapeInto(v, out, pos);
        out[pos++] = 0x27;
        break;
      case 'binary':
        // The bytes as they are (escaped), marked binary: never read in the client's character set.
        out.set(BINARY_INTRODUCER, pos);
        pos += BINARY_INTRODUCER.length;
        pos = escapeInto(v, out, pos);
        out[pos++] = 0x27;
        break;
      default:
        out[pos++] = 0x30;
        out[pos++] = 0x78;
        pos += out.write(v.toString('hex'), pos, 'latin1');
    }
  }
  out[pos++] = 0x29;
  return pos;
}

/** A byte that needs an escape (as one-byte characters: a latin1 reading keeps every byte). */
const NEEDS_ESCAPE = /[\0\n\r\\'"\x1a]/;
/**
 * Whether a value holds a byte to escape: WebAssembly SIMD where the runtime has it
 * (escape-scan-wasm.ts: no string per value), else NEEDS_ESCAPE over the value read as latin1.
 */
const needsEscape: (v: Buffer) => boolean = escapeScanner() ?? ((v) => NEEDS_ESCAPE.test(v.toString('latin1')));
/** Values from this length on are tested with needsEscape first (~0.2-0.5 ns a byte, measured; the loop below takes 2-4). */
const REGEX_FROM_BYTES = 24;

/** Copies v into out at pos with mysql_real_escape_string's escapes; returns the new pos. */
export function escapeInto(v: Buffer, out: Buffer, pos: number): number {
  const n = v.length;
  if (n >= REGEX_FROM_BYTES && !needsEscape(v)) {
    out.set(v, pos);
    return pos + n;
  }
  let start = 0;
  for (let i = 0; i < n; i++) {
    const e = ESCAPE[v[i]!]!;
    if (e === 0) continue;
    if (i > start) {
      out.set(v.subarray(start, i), pos);
      pos += i - start;
    }
    out[pos++] = 0x5c;
    out[pos++] = e;
    start = i + 1;
  }
  if (start === 0) out.set(v, pos);
  else if (n > start) out.set(v.subarray(start, n), pos);
  return pos + n - start;
}
