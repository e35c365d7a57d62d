// The parallel dumper's pure decisions, on tables: key ranges, the key chunks are cut on, how
// each column type is rendered, the escapes, statement sizes, system tables, and the text
// around the rows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseKey } from './catalog.ts';
import { planRanges, rangeCondition } from './chunk-plan.ts';
import type { KeyRange } from './chunk-plan.ts';
import { InsertBuilder } from './insert-builder.ts';
import { classifyColumn, escapeInto, renderRow, maxRenderedBytes } from './row-render.ts';
import type { ColumnKind } from './row-render.ts';
import { footer, quoteName, quoteString, sequenceValue } from './sql-text.ts';
import { tableTreatment } from './system-tables.ts';

/** Whether the ranges follow each other without a gap or an overlap, from no lower bound to no upper bound. */
function contiguous(ranges: KeyRange[]): boolean {
  return ranges[0]!.from === undefined && ranges.at(-1)!.to === undefined && ranges.every((r, i) => i === 0 || (r.from !== undefined && r.from === ranges[i - 1]!.to && (r.to === undefined || r.to > r.from)));
}

describe('parallel dump planning', () => {
  it('cuts key ranges that hold every row exactly once', () => {
    const table: [bigint | undefined, bigint | undefined, number, number, number][] = [
      // min, max, estimate, chunkRows, ranges
      [undefined, undefined, 0, 10, 1],
      [1n, 100n, 100, 1000, 1],
      [1n, 100n, 100, 10, 10],
      [1n, 100n, 0, 10, 10],
      [1n, 1_000_000n, 100, 10, 10],
      [-9223372036854775808n, 9223372036854775807n, 5000, 1000, 5],
      [0n, 18446744073709551615n, 1e12, 1, 100_000],
      [5n, 5n, 1, 1, 1],
    ];
    for (const [min, max, estimate, chunkRows, count] of table) {
      const ranges = planRanges(min, max, estimate, chunkRows);
      assert.equal(ranges.length, count, `${min}..${max}`);
      assert.ok(contiguous(ranges), `${min}..${max}: every row in exactly one range`);
      if (min !== undefined && max !== undefined && ranges.length > 1) {
        assert.ok(ranges[0]!.to! > min && ranges.at(-1)!.from! <= max, 'no range is empty by construction');
      }
    }
  });

  it('writes range conditions with the --where condition as a parenthesised whole', () => {
    assert.equal(rangeCondition('id', {}, undefined), '');
    assert.equal(rangeCondition('id', { from: 10n, to: 20n }, undefined), ' WHERE `id` >= 10 AND `id` < 20');
    assert.equal(rangeCondition('i`d', { to: -5n }, 'a = 1 OR b = 2'), ' WHERE `i``d` < -5 AND (a = 1 OR b = 2)');
    assert.equal(rangeCondition(undefined, {}, 'x > 1'), ' WHERE (x > 1)');
  });

  it('chooses the primary key, else a NOT NULL unique key; cuts only on an integer first column', () => {
    const types = new Map([['id', 'bigint'], ['k', 'varchar'], ['u', 'int'], ['n', 'int']]);
    const row = (index: string, nonUnique: string, column: string, nullable = '') => ['t', index, nonUnique, column, nullable];
    assert.deepEqual(chooseKey([row('PRIMARY', '0', 'id'), row('u', '0', 'u')], types), { chunkColumn: 'id', orderBy: ['id'] });
    assert.deepEqual(chooseKey([row('PRIMARY', '0', 'k'), row('PRIMARY', '0', 'id')], types), { orderBy: ['k', 'id'] });
    assert.deepEqual(chooseKey([row('n', '0', 'n', 'YES'), row('u', '0', 'u')], types), { chunkColumn: 'u', orderBy: ['u'] });
    assert.deepEqual(chooseKey([row('k', '1', 'id')], types), { orderBy: [] });
    assert.deepEqual(chooseKey([], types), { orderBy: [] });
  });

  it('renders each column type as mariadb-dump would load it', () => {
    const kinds: [string, string | null, ColumnKind][] = [
      ['int', null, 'number'], ['bigint', null, 'number'], ['decimal', null, 'number'], ['double', null, 'number'], ['float', null, 'number'], ['year', null, 'number'],
      ['bit', null, 'bit'], ['blob', null, 'binary'], ['varbinary', null, 'binary'], ['point', null, 'binary'], ['geometrycollection', null, 'binary'], ['char', 'binary', 'binary'],
      ['varchar', 'utf8mb4', 'string'], ['longtext', 'utf8mb4', 'string'], ['enum', 'latin1', 'string'], ['datetime', null, 'string'], ['timestamp', null, 'string'], ['inet6', null, 'string'], ['uuid', null, 'string'],
    ];
    for (const [type, charset, kind] of kinds) assert.equal(classifyColumn(type, charset), kind, type);
    const row = [Buffer.from('-12.5e3'), Buffer.from("it's \\ \"q\"\n\r\0\x1a;"), Buffer.from([0, 255, 39]), Buffer.alloc(0), Buffer.from([1, 0]), null, Buffer.alloc(0)];
    const k: ColumnKind[] = ['number', 'string', 'binary', 'binary', 'bit', 'string', 'string'];
    const out = Buffer.alloc(maxRenderedBytes(row));
    const end = renderRow(row, k, 'client', out, 0);
    assert.equal(out.subarray(0, end).toString('latin1'), "(-12.5e3,'it\\'s \\\\ \\\"q\\\"\\n\\r\\0\\Z;',_binary'\\0\xff\\'',_binary'',0x0100,NULL,'')");
  });

  it('escapes every byte that needs it, long values and short alike, and keeps the others', () => {
    for (const length of [1, 23, 24, 25, 1000]) {
      for (let b = 0; b < 256; b++) {
        const v = Buffer.alloc(length, 0x61);
        v[length >> 1] = b;
        const out = Buffer.alloc(2 * length);
        const text = out.subarray(0, escapeInto(v, out, 0));
        const escaped = ({ 0: '\\0', 10: '\\n', 13: '\\r', 92: '\\\\', 39: "\\'", 34: '\\"', 26: '\\Z' } as Record<number, string>)[b];
        const want = Buffer.concat([v.subarray(0, length >> 1), escaped ? Buffer.from(escaped) : Buffer.from([b]), v.subarray((length >> 1) + 1)]);
        assert.deepEqual(text, want, `byte ${b} in ${length}`);
      }
    }
  });

  it('cuts INSERT statements at the size limit, a larger row in a statement of its own', () => {
    const pieces: Buffer[] = [];
    const b = new InsertBuilder('INSERT INTO `t` (`a`) VALUES ', ['string'], 'client', 110, (s) => pieces.push(s));
    for (const v of ['x'.repeat(30), 'y'.repeat(30), 'z'.repeat(30), 'w'.repeat(300), 'v']) b.add([Buffer.from(v)]);
    b.flush();
    b.flush();
    const text = Buffer.concat(pieces).toString().split(/(?<=;\n)/);
    assert.deepEqual(text, [
      `INSERT INTO \`t\` (\`a\`) VALUES ('${'x'.repeat(30)}'),\n('${'y'.repeat(30)}');\n`,
      `INSERT INTO \`t\` (\`a\`) VALUES ('${'z'.repeat(30)}');\n`,
      `INSERT INTO \`t\` (\`a\`) VALUES ('${'w'.repeat(300)}');\n`,
      "INSERT INTO `t` (`a`) VALUES ('v');\n",
    ]);
    assert.equal(b.rowCount, 5);
    assert.ok(text.filter((s) => !s.includes('w')).every((s) => s.length <= 110));
  });

  it('hands the statements on in pieces of at most its piece size, a large row across pieces, every byte once', () => {
    const pieces: Buffer[] = [];
    const b = new InsertBuilder('INSERT INTO `t` (`a`, `b`) VALUES ', ['string', 'binary'], 'client', 4096, (s) => pieces.push(s), 256);
    const rows: Buffer[][] = [];
    for (let i = 0; i < 200; i++) rows.push([Buffer.from(`row ${i} ${'q'.repeat(i % 37)}`), Buffer.from([i, 0, 39, 92, 255])]);
    rows.splice(100, 0, [Buffer.from('L'.repeat(3000)), Buffer.alloc(2000, 0x41)]);
    for (const r of rows) b.add(r);
    b.flush();
    assert.ok(pieces.length > 20);
    assert.ok(pieces.every((p) => p.length > 0 && p.length <= 256), `pieces of ${Math.max(...pieces.map((p) => p.length))} bytes at most`);
    assert.ok(pieces.slice(0, -1).every((p) => p.length === 256), 'every piece but the last is full');
    // The same statements as one rendering of each row in turn would give.
    const statements = Buffer.concat(pieces).toString('latin1').split(/(?<=;\n)/);
    assert.ok(statements.every((st) => st.startsWith('INSERT INTO `t` (`a`, `b`) VALUES (') && st.endsWith(');\n')));
    assert.ok(statements.every((st) => st.length <= 4096 || !st.includes('),\n(')), 'only a statement of one row passes the limit');
    const rendered = statements.flatMap((st) => st.slice('INSERT INTO `t` (`a`, `b`) VALUES '.length, -2).split(',\n'));
    const want = rows.map((r) => {
      const out = Buffer.alloc(maxRenderedBytes(r));
      return out.subarray(0, renderRow(r, ['string', 'binary'], 'client', out, 0)).toString('latin1');
    });
    assert.deepEqual(rendered, want);
    assert.equal(b.rowCount, rows.length);
  });

  it("treats the server's own tables as mariadb-dump --all-databases does", () => {
    assert.equal(tableTreatment('mysql', 'general_log', 'CSV'), 'create-if-missing');
    assert.equal(tableTreatment('mysql', 'transaction_registry', 'InnoDB'), 'create-if-missing');
    assert.equal(tableTreatment('mysql', 'innodb_table_stats', 'InnoDB'), 'structure-only');
    assert.equal(tableTreatment('mysql', 'global_priv', 'Aria'), 'data');
    assert.equal(tableTreatment('shop', 'general_log', 'InnoDB'), 'data');
    assert.equal(tableTreatment('shop', 'm', 'MRG_MyISAM'), 'structure-only');
    assert.equal(tableTreatment('shop', 'f', 'FEDERATED'), 'structure-only');
  });

  it('quotes names and strings, and writes the completed mark the verifier looks for', () => {
    assert.equal(quoteName('a`b'), '`a``b`');
    assert.equal(quoteString("o'k\\\n\0\"\x1a"), "'o\\'k\\\\\\n\\0\\\"\\Z'");
    assert.match(footer(new Date(Date.UTC(2026, 0, 2, 3, 4, 5))), /\n-- Dump completed on 2026-01-02  3:04:05\n$/);
    assert.equal(sequenceValue({ name: 's' } as never, '-5'), '\nDO SETVAL(`s`, -5, 0);\n');
    assert.throws(() => sequenceValue({ name: 's' } as never, '1; DROP TABLE x'));
  });
});
