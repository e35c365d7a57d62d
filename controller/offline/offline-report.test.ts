// An agent's offline report is untrusted (offline-report.ts): each field refused on its own.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { parseOfflineReport } from './offline-report.ts';

const good = { configuration: 'nightly', configurationUid: '0b1c2d3e-aaaa-bbbb-cccc-0123456789ab', scheduledAt: '2026-12-02T03:00:00Z', startedAt: '2026-12-02T03:00:04.120Z', result: { phase: 'Succeeded', snapshotId: 'a'.repeat(64), bytesRead: 10 } };

it('a well-formed report passes, unknown fields dropped', () => {
  const r = parseOfflineReport({ ...good, extra: 'x', result: { ...good.result, extra: 1 } });
  assert.deepEqual(r, { ...good, result: { phase: 'Succeeded', snapshotId: 'a'.repeat(64), bytesRead: 10 } });
});

it('each bad field is refused with its name', () => {
  const rows: [string, unknown, RegExp][] = [
    ['not an object', 'x', /body: must be an object/],
    ['configuration with a slash', { ...good, configuration: '../other' }, /configuration: must be a BackupConfiguration name/],
    ['configuration upper case', { ...good, configuration: 'Nightly' }, /configuration/],
    ['configuration missing', { ...good, configuration: undefined }, /configuration/],
    ['uid with spaces', { ...good, configurationUid: 'a b' }, /configurationUid: must be a uid/],
    ['uid too long', { ...good, configurationUid: 'a'.repeat(65) }, /configurationUid/],
    ['scheduledAt not a time', { ...good, scheduledAt: 'yesterday' }, /scheduledAt: must be an RFC 3339 time/],
    ['scheduledAt a number', { ...good, scheduledAt: 1764644400000 }, /scheduledAt/],
    ['startedAt impossible date', { ...good, startedAt: '2026-13-45T99:00:00Z' }, /startedAt/],
    ['result missing', { ...good, result: undefined }, /must be an object/],
    ['result phase Cancelled (agents report Succeeded or Failed)', { ...good, result: { phase: 'Cancelled' } }, /phase: must be Succeeded or Failed/],
    ['result snapshot id not hex', { ...good, result: { phase: 'Succeeded', snapshotId: 'zz' } }, /snapshotId/],
  ];
  for (const [what, body, want] of rows) {
    assert.throws(() => parseOfflineReport(body), (err) => isSidestashError(err, ErrorCodes.INVALID_ARGUMENT) && want.test((err as Error).message), what);
  }
});
