// Which Events a session's start and end give, on a table: the session's own and its
// BackupConfiguration's; Warning for failures (with the error code), NoAgent, retention.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionStatus } from '../resources/types.ts';
import { sessionEvents } from './session-events.ts';

const meta = { name: 'nightly-1764590400', namespace: 'shop' };
const backup = (status?: SessionStatus) => ({ kind: 'BackupSession' as const, metadata: meta, ...(status ? { status } : {}) });
const restore = (status?: SessionStatus) => ({ kind: 'RestoreSession' as const, metadata: meta, ...(status ? { status } : {}) });
const brief = (events: ReturnType<typeof sessionEvents>): string[] => events.map((e) => `${e.on} ${e.type} ${e.reason}: ${e.message}`);

describe('sessionEvents', () => {
  const table: [string, ReturnType<typeof sessionEvents>, string[]][] = [
    ['a backup starts', sessionEvents('started', backup({ phase: 'Running', agent: 'shop/mariadb-0' })), [
      'session Normal Started: backup started by agent shop/mariadb-0',
      'configuration Normal SessionStarted: BackupSession nightly-1764590400: backup started by agent shop/mariadb-0',
    ]],
    ['a restore starts (no configuration)', sessionEvents('started', restore({ phase: 'Running', agent: 'shop/mariadb-0' })), ['session Normal Started: restore started by agent shop/mariadb-0']],
    ['a backup succeeds with retention', sessionEvents('finished', backup({ phase: 'Succeeded', snapshotId: 'abcdef0123456789', bytesStored: 3 * 1024 * 1024, durationSeconds: 12.4, retention: { kept: 5, removed: 2, pruned: true } })), [
      'session Normal Succeeded: backed up, snapshot abcdef01, 3.0 MiB stored, in 12s',
      'configuration Normal SessionSucceeded: BackupSession nightly-1764590400: backed up, snapshot abcdef01, 3.0 MiB stored, in 12s',
      'session Normal RetentionApplied: retention policy applied: kept 5, removed 2 snapshot(s), pruned',
      'configuration Normal RetentionApplied: BackupSession nightly-1764590400: retention policy applied: kept 5, removed 2 snapshot(s), pruned',
    ]],
    ['retention that failed is a warning', sessionEvents('finished', restore({ phase: 'Succeeded', retention: { kept: 1, removed: 0, pruned: false, error: 'locked' } })), [
      'session Normal Succeeded: restored',
      'session Warning RetentionFailed: retention policy not applied: locked',
    ]],
    ['a failure is a warning with its code', sessionEvents('finished', restore({ phase: 'Failed', error: { code: 'SIDESTASH_DUMP_FAILED', message: 'mariadb-dump exited 2' } })), ['session Warning Failed: SIDESTASH_DUMP_FAILED: mariadb-dump exited 2']],
    ['no agent', sessionEvents('finished', backup({ phase: 'Failed', error: { code: 'SIDESTASH_NO_AGENT', message: 'no online agent serves shop/db' } })), [
      'session Warning NoAgent: SIDESTASH_NO_AGENT: no online agent serves shop/db',
      'configuration Warning SessionNoAgent: BackupSession nightly-1764590400: SIDESTASH_NO_AGENT: no online agent serves shop/db',
    ]],
    ['a cancel', sessionEvents('finished', restore({ phase: 'Cancelled', cancelReason: 'requested' })), ['session Normal Cancelled: cancelled (requested)']],
    ['nothing for other phases', sessionEvents('finished', restore({ phase: 'Running' })), []],
  ];
  for (const [name, got, want] of table) it(name, () => assert.deepEqual(brief(got), want));
});
