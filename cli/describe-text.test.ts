// describe's page and the events derived from sessions, on tables.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeText, timeCell } from './describe-text.ts';
import { recentEvents, sessionEvents } from './session-events.ts';
import type { SessionLike } from './session-events.ts';

const NOW = Date.parse('2026-06-10T12:00:00Z');
const at = (deltaS: number): string => new Date(NOW + deltaS * 1000).toISOString();

const ok: SessionLike = {
  kind: 'BackupSession',
  metadata: { name: 'nightly-1', creationTimestamp: at(-3 * 3600 - 10) },
  spec: { invoker: { name: 'nightly' }, trigger: 'schedule' },
  status: { phase: 'Succeeded', agent: 'default/agent-0', startedAt: at(-3 * 3600 - 5), finishedAt: at(-3 * 3600), snapshotId: 'abcdef0123456789', bytesRead: 5 * 1024 * 1024, durationSeconds: 5, retention: { kept: 3, removed: 1, pruned: true } },
};
const failed: SessionLike = {
  kind: 'BackupSession',
  metadata: { name: 'nightly-2', creationTimestamp: at(-600) },
  spec: { invoker: { name: 'nightly' }, trigger: 'manual' },
  status: { phase: 'Failed', agent: 'default/agent-0', startedAt: at(-590), finishedAt: at(-580), error: { code: 'SIDESTASH_DUMP_FAILED', message: 'mariadb-dump exited 2' } },
};

describe('events derived from sessions', () => {
  const table: [string, SessionLike, [string, string, string][]][] = [
    ['a successful backup with retention', ok, [['Normal', 'Created', 'schedule trigger'], ['Normal', 'Started', 'on agent default/agent-0'], ['Normal', 'Succeeded', 'snapshot abcdef01, 5.0 MiB, in 5.0s'], ['Normal', 'RetentionApplied', 'kept 3, removed 1 snapshot(s), pruned']]],
    ['a failed backup', failed, [['Normal', 'Created', 'manual trigger'], ['Normal', 'Started', 'on agent default/agent-0'], ['Warning', 'Failed', 'SIDESTASH_DUMP_FAILED: mariadb-dump exited 2']]],
    ['a Pending session', { kind: 'RestoreSession', metadata: { name: 'r', creationTimestamp: at(-5) }, status: { phase: 'Pending' } }, [['Normal', 'Created', 'session created']]],
    ['retention that failed', { metadata: { name: 'x' }, status: { phase: 'Succeeded', finishedAt: at(-1), retention: { kept: 0, removed: 0, pruned: false, error: 'lock held' } } }, [['Normal', 'Succeeded', 'succeeded'], ['Warning', 'RetentionFailed', 'lock held']]],
    ['fields of the wrong type', { metadata: { name: 'y' }, status: { phase: 7, startedAt: 3, finishedAt: {} } }, []],
  ];
  for (const [name, s, want] of table) it(name, () => assert.deepEqual(sessionEvents(s).map((e) => [e.type, e.reason, e.message]), want));

  it('recent events: oldest first, the newest `limit`, unparseable times left out', () => {
    const events = recentEvents([failed, ok, { metadata: { name: 'z', creationTimestamp: 'garbage' } }], 3);
    assert.deepEqual(events.map((e) => `${e.object} ${e.reason}`), ['backupsession/nightly-2 Created', 'backupsession/nightly-2 Started', 'backupsession/nightly-2 Failed']);
  });
});

describe('describe page', () => {
  it('times are shown with how long ago', () => {
    assert.equal(timeCell(at(-3 * 3600), NOW), '2026-06-10T09:00:00Z (3h ago)');
    assert.equal(timeCell(undefined, NOW), '-');
  });

  it('a BackupConfiguration: state, recent sessions newest first, serving agent, events', () => {
    const text = describeText(
      { kind: 'BackupConfiguration', metadata: { name: 'nightly', namespace: 'default', creationTimestamp: at(-86400 * 3), labels: { team: 'a' } }, spec: { schedule: '0 2 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } }, retentionPolicy: { keepLast: 5, prune: true } }, status: { lastSuccessTime: at(-3 * 3600), nextScheduleTime: at(26 * 60), lastFinishedPhase: 'Failed', consecutiveFailures: 1 } },
      { sessions: [ok, failed], agents: [{ name: 'default/agent-0', targets: ['default/db'], version: '0.1.0', lastSeenAt: at(-5), online: true }] },
      NOW,
    );
    const expected = [
      'Name:               nightly',
      'Namespace:          default',
      'Kind:               BackupConfiguration',
      'Labels:             team=a',
      'Created:            2026-06-07T12:00:00Z (3d ago)',
      'Schedule:           0 2 * * *',
      'Paused:             false',
      'Repository:         repo',
      'Target:             db',
      'Last success:       2026-06-10T09:00:00Z (3h ago)',
      'Last phase:         Failed',
      'Failures in a row:  1',
      'Last schedule:      -',
      'Next run:           2026-06-10T12:26:00Z (in 26m)',
      '',
      'Retention policy:',
      '  keepLast: 5',
      '  prune: true',
      '',
      'Recent sessions:',
      '  NAME       PHASE                 SIZE     DURATION  AGE',
      '  nightly-2  Failed (DUMP_FAILED)  -        -         10m ago',
      '  nightly-1  Succeeded             5.0 MiB  5.0s      3h ago',
      '',
      'Serving agent:',
      '  NAMESPACE  NAME     STATUS  LAST SEEN  VERSION  TARGETS',
      '  default    agent-0  online  5s ago     0.1.0    default/db',
      '',
      'Events:',
    ];
    assert.equal(text.split('\n').slice(0, expected.length).join('\n'), expected.join('\n'));
    assert.match(text, /Events:\n {2}TYPE +REASON +AGE +OBJECT +MESSAGE\n {2}Normal +Created +3h ago +backupsession\/nightly-1 .*\n(.*\n)* {2}Warning +Failed +10m ago +backupsession\/nightly-2 +SIDESTASH_DUMP_FAILED: mariadb-dump exited 2$/);
    assert.match(text, /RetentionApplied +3h ago +backupsession\/nightly-1 +kept 3, removed 1 snapshot\(s\), pruned/);
  });

  it('a paused configuration with nothing related says so', () => {
    const text = describeText({ kind: 'BackupConfiguration', metadata: { name: 'n' }, spec: { schedule: '* * * * *', paused: true }, status: { nextScheduleTime: at(60) } }, { sessions: [], agents: [] }, NOW);
    assert.match(text, /^Next run: +paused$/m);
    assert.match(text, /^Recent sessions: <none>$/m);
    assert.match(text, /^Serving agent: <none> \(no agent registered for this target\)$/m);
    assert.match(text, /^Events: <none>$/m);
  });

  it('a Repository: backend, human size, snapshots, last backup; a Secret: its keys, never values', () => {
    const repo = describeText({ kind: 'Repository', metadata: { name: 'r' }, spec: { backend: { s3: { endpoint: 'https://s3.example.com', bucket: 'b' } } }, status: { sizeBytes: 1536, snapshotCount: 4, lastBackupTime: at(-120) } }, { sessions: [], agents: [] }, NOW);
    assert.match(repo, /^Backend: +s3:s3\.example\.com\/b$/m);
    assert.match(repo, /^Size: +1\.5 KiB$/m);
    assert.match(repo, /^Snapshots: +4$/m);
    assert.match(repo, /^Last backup: +\S+ \(2m ago\)$/m);
    const secret = describeText({ kind: 'Secret', metadata: { name: 's' }, spec: { data: { RESTIC_PASSWORD: '[REDACTED]', password: '[REDACTED]' } } }, { sessions: [], agents: [] }, NOW);
    assert.match(secret, /^Keys: +RESTIC_PASSWORD, password$/m);
    assert.doesNotMatch(secret, /REDACTED|Serving agent/);
  });

  it('a failed session: phase with reason, error, agent, times', () => {
    const text = describeText({ kind: 'BackupSession', ...failed } as never, { sessions: [failed], agents: [] }, NOW);
    assert.match(text, /^Phase: +Failed \(DUMP_FAILED\)$/m);
    assert.match(text, /^Error: +SIDESTASH_DUMP_FAILED: mariadb-dump exited 2$/m);
    assert.match(text, /^Configuration: +nightly$/m);
    assert.match(text, /^Started: +\S+ \(10m ago\)$/m);
  });
});

describe('describe: point-in-time recovery', () => {
  it("a BackupConfiguration's binlog archive: holder, position, lag, error and gaps; nothing when archiving is off", () => {
    const cfg = (spec: Record<string, unknown>, binlog?: Record<string, unknown>) => describeText({ kind: 'BackupConfiguration', metadata: { name: 'c' }, spec: { schedule: '0 2 * * *', ...spec }, status: binlog ? { binlog } : {} }, { sessions: [], agents: [] }, NOW);
    assert.doesNotMatch(cfg({}), /Binlog/);
    assert.match(cfg({ binlog: { enabled: true } }), /Binlog archive:\s+not running \(no agent holds it yet\)/);
    const text = cfg({ binlog: { enabled: true } }, { agent: 'shop/db-0', file: 'mysql-bin.000042', position: 650, lastEventTime: at(-5), flushedAt: at(-3), lagSeconds: 1.25, gaps: 1, lastGap: { detectedAt: at(-3600), message: 'mysql-bin.000040 was purged before it was archived' }, error: { code: 'SIDESTASH_DATABASE_UNAVAILABLE', message: 'connection refused' } });
    assert.match(text, /Binlog archive:\s+by shop\/db-0, at mysql-bin.000042:650/);
    assert.match(text, /Binlog lag:\s+1\.3s/);
    assert.match(text, /Binlog error:\s+SIDESTASH_DATABASE_UNAVAILABLE: connection refused/);
    assert.match(text, /Binlog gaps:\s+1, last .*mysql-bin.000040 was purged/);
  });

  it("a point-in-time RestoreSession's point", () => {
    const r = (spec: Record<string, unknown>) => describeText({ kind: 'RestoreSession', metadata: { name: 'r' }, spec: { repository: { name: 'repo' }, target: { ref: { name: 'db' } }, ...spec }, status: { phase: 'Pending' } }, { sessions: [], agents: [] }, NOW);
    assert.match(r({ pointInTime: '2026-06-10T10:00:00Z' }), /Snapshot asked:\s+point in time: 2026-06-10T10:00:00Z/);
    assert.match(r({ pointInTime: 'latest' }), /point in time: latest archived/);
    assert.match(r({ gtid: '0-1-42' }), /up to GTID 0-1-42/);
    assert.match(r({ position: { file: 'mysql-bin.000042', position: 650 } }), /up to mysql-bin.000042:650/);
  });
});
