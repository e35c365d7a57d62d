import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalTime, formatZoned } from './time.ts';
import { encodeCanonicalTree, encodeNode, goJsonString, goQuoteInner } from './tree-json.ts';

describe('restic\'s canonical tree JSON', () => {
  it('times as Go\'s RFC3339Nano: trailing zeros trimmed, no dot for whole seconds, Z for UTC', () => {
    const cases: [string, string][] = [
      ['2026-11-24T23:01:02.123456789+01:00', '2026-11-24T23:01:02.123456789+01:00'],
      ['2026-11-24T23:01:02.120000000+00:00', '2026-11-24T23:01:02.12Z'],
      ['2026-11-24T23:01:02.000000000-05:30', '2026-11-24T23:01:02-05:30'],
      ['2026-11-24T23:01:02Z', '2026-11-24T23:01:02Z'],
      ['2026-11-24T23:01:02.5+05:30', '2026-11-24T23:01:02.5+05:30'],
      ['1969-12-31T23:59:59.999000001Z', '1969-12-31T23:59:59.999000001Z'],
    ];
    for (const [input, want] of cases) assert.equal(canonicalTime(input), want, input);
    assert.equal(formatZoned(Date.UTC(2026, 0, 2, 3, 4, 5, 60), 60_000_000, 0), '2026-01-02T03:04:05.06Z');
    assert.equal(canonicalTime('not a time'), undefined);
  });

  it('names as strconv.Quote, strings HTML-escaped as encoding/json', () => {
    assert.equal(goQuoteInner('dumpfile.sql'), 'dumpfile.sql');
    assert.equal(goQuoteInner('a"b\\c'), 'a\\"b\\\\c');
    assert.equal(goQuoteInner('tab\there\n\x01\x7f'), 'tab\\there\\n\\x01\\x7f');
    assert.equal(goQuoteInner('ünïcödé ✓'), 'ünïcödé ✓');
    assert.equal(goQuoteInner('\u200b\u{e0001}'), '\\u200b\\U000e0001');
    assert.equal(goJsonString('<a & b>\u2028'), '"\\u003ca \\u0026 b\\u003e\\u2028"');
  });

  it('fields in restic\'s Node order, omitempty as restic\'s struct tags', () => {
    const node = { name: 'x.sql', type: 'file', mode: 420, mtime: '2026-01-01T00:00:00.5+00:00', uid: 0, gid: 0, user: '', size: 0, content: [] };
    assert.equal(encodeNode(node), '{"name":"x.sql","type":"file","mode":420,"mtime":"2026-01-01T00:00:00.5Z","atime":"0001-01-01T00:00:00Z","ctime":"0001-01-01T00:00:00Z","uid":0,"gid":0,"content":[]}');
    const full = { name: 'd', type: 'dir', mode: 2147484141, mtime: 'x', uid: 1, gid: 2, user: 'u', group: 'g', inode: 3, size: 4, links: 5, content: null, subtree: 'ab' };
    assert.throws(() => encodeNode(full), /not an RFC 3339 time/);
    assert.equal(
      encodeNode({ ...full, mtime: '2026-01-01T00:00:00Z', atime: '2026-01-01T00:00:00Z', ctime: '2026-01-01T00:00:00Z' }),
      '{"name":"d","type":"dir","mode":2147484141,"mtime":"2026-01-01T00:00:00Z","atime":"2026-01-01T00:00:00Z","ctime":"2026-01-01T00:00:00Z","uid":1,"gid":2,"user":"u","group":"g","inode":3,"size":4,"links":5,"content":null,"subtree":"ab"}',
    );
    assert.equal(encodeCanonicalTree([]).toString(), '{"nodes":[]}\n');
    assert.throws(() => encodeCanonicalTree([{ ...node, name: 'b' }, { ...node, name: 'a' }]), /not sorted/);
  });
});
