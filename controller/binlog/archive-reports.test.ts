// An agent's archive reports are untrusted: each refusal names its field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { parseArchiveReports } from './archive-reports.ts';

const good = { configuration: 'shop/nightly', chain: '0123456789abcdef', file: 'mysql-bin.000042', position: 650, lastEventTime: '2026-12-01T10:00:00+02:00', lastGtid: '0-7-12', flushedAt: '2026-12-01T08:00:01Z', bytesArchived: 1234, lagSeconds: 0.5, gaps: 1, lastGap: { detectedAt: '2026-12-01T07:00:00Z', message: 'binlog purged \u001b[31mred' }, error: { code: 'SIDESTASH_BINLOG_GAP', message: 'x' } };

function refused(body: unknown): string[] {
  try {
    parseArchiveReports(body);
  } catch (err) {
    assert.ok(isSidestashError(err, ErrorCodes.INVALID_ARGUMENT));
    return (err.details.errors as { field: string }[]).map((e) => e.field);
  }
  return [];
}

describe('binlog archive reports', () => {
  it('keeps a well-formed report, times in UTC, terminal escapes removed, unknown fields dropped', () => {
    const [r] = parseArchiveReports({ reports: [{ ...good, extra: 'dropped' }] });
    assert.equal(r!.lastEventTime, '2026-12-01T08:00:00.000Z');
    assert.equal(r!.lastGap!.message.includes('\u001b'), false);
    assert.equal('extra' in r!, false);
    assert.deepEqual(parseArchiveReports({ reports: [] }), []);
  });

  const table: [string, unknown, string[]][] = [
    ['no list', {}, ['reports']],
    ['too many', { reports: Array.from({ length: 101 }, (_, i) => ({ configuration: `ns/c${i}` })) }, ['reports']],
    ['a configuration twice', { reports: [{ configuration: 'ns/c' }, { configuration: 'ns/c' }] }, ['reports[1].configuration']],
    ['a configuration that is no name', { reports: [{ configuration: '../x' }] }, ['reports[0].configuration']],
    ['a chain that is not 16 hex', { reports: [{ ...good, chain: 'zz' }] }, ['reports[0].chain']],
    ['a file with a path', { reports: [{ ...good, file: '/etc/passwd.000001' }] }, ['reports[0].file']],
    ['a negative position', { reports: [{ ...good, position: -4 }] }, ['reports[0].position']],
    ['a fractional gap count', { reports: [{ ...good, gaps: 0.5 }] }, ['reports[0].gaps']],
    ['a time that is none', { reports: [{ ...good, flushedAt: 'now' }] }, ['reports[0].flushedAt']],
    ['a GTID list that is none', { reports: [{ ...good, lastGtid: '0-1' }] }, ['reports[0].lastGtid']],
    ['an error code that is none', { reports: [{ ...good, error: { code: 'lower', message: 'x' } }] }, ['reports[0].error.code']],
  ];
  for (const [name, body, fields] of table) {
    it(`refuses ${name}`, () => assert.deepEqual(refused(body), fields));
  }
});
