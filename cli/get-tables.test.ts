// get's tables on tables of items: the state each kind shows, wide and all-namespace columns,
// and fields of the wrong type shown as "-".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentTable, backendCell, phaseCell, resourceTable } from './get-tables.ts';
import type { ListedItem } from './get-tables.ts';

const NOW = Date.parse('2026-06-10T12:00:00Z');
const at = (deltaS: number): string => new Date(NOW + deltaS * 1000).toISOString();
const plain = { wide: false, allNamespaces: false, nowMs: NOW };
const md = (name: string, ageS = 86400 * 2, namespace = 'default') => ({ name, namespace, creationTimestamp: at(-ageS) });

describe('get backupconfigurations', () => {
  const cfg = (spec: Record<string, unknown>, status: Record<string, unknown> | undefined): ListedItem => ({ metadata: md('nightly'), spec: { schedule: '0 2 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } }, ...spec }, ...(status ? { status } : {}) });
  const table: [string, ListedItem, string[]][] = [
    ['succeeded 3h ago, next run in 26m', cfg({}, { lastFinishedPhase: 'Succeeded', consecutiveFailures: 0, lastSuccessTime: at(-3 * 3600), nextScheduleTime: at(26 * 60) }), ['nightly', '0 2 * * *', 'false', 'Succeeded', '0', '3h ago', 'in 26m', '2d']],
    ['paused: next run says so', cfg({ paused: true }, { lastFinishedPhase: 'Failed', consecutiveFailures: 2, lastSuccessTime: at(-9 * 86400), nextScheduleTime: at(60) }), ['nightly', '0 2 * * *', 'true', 'Failed', '2', '9d ago', 'paused', '2d']],
    ['never ran', cfg({}, undefined), ['nightly', '0 2 * * *', 'false', '-', '0', '-', '-', '2d']],
    ['fields of the wrong type', cfg({ schedule: 5 }, { lastSuccessTime: 7, consecutiveFailures: 'many', nextScheduleTime: {} }), ['nightly', '-', 'false', '-', '0', '-', '-', '2d']],
  ];
  for (const [name, item, row] of table) it(name, () => assert.deepEqual(resourceTable('backupconfigurations', [item], plain).rows[0], row));

  it('headers, and -o wide adds repository, target, timezone, last schedule and session', () => {
    const t = resourceTable('backupconfigurations', [cfg({ timezone: 'Europe/Berlin' }, { lastScheduleTime: at(-600), lastSessionName: 'nightly-1' })], { ...plain, wide: true });
    assert.deepEqual(t.headers, ['NAME', 'SCHEDULE', 'PAUSED', 'LAST PHASE', 'FAILURES', 'LAST SUCCESS', 'NEXT RUN', 'AGE', 'REPOSITORY', 'TARGET', 'TIMEZONE', 'LAST SCHEDULE', 'LAST SESSION']);
    assert.deepEqual(t.rows[0]!.slice(8), ['repo', 'db', 'Europe/Berlin', '10m ago', 'nightly-1']);
  });

  it('-A puts NAMESPACE first', () => {
    const t = resourceTable('backupconfigurations', [{ ...cfg({}, undefined), metadata: md('x', 60, 'team-a') }], { ...plain, allNamespaces: true });
    assert.equal(t.headers[0], 'NAMESPACE');
    assert.deepEqual(t.rows[0]!.slice(0, 2), ['team-a', 'x']);
  });
});

describe('get backupsessions and restoresessions', () => {
  const phases: [string, Record<string, unknown> | undefined, string][] = [
    ['no status yet', undefined, 'Pending'],
    ['succeeded', { phase: 'Succeeded' }, 'Succeeded'],
    ['failed with a code', { phase: 'Failed', error: { code: 'SIDESTASH_NO_AGENT', message: 'no agent' } }, 'Failed (NO_AGENT)'],
    ['cancelled for its timeout', { phase: 'Failed', cancelReason: 'timeout', error: { code: 'SIDESTASH_SESSION_CANCELLED', message: 'x' } }, 'Failed (SESSION_CANCELLED)'],
    ['being cancelled', { phase: 'Running', cancelRequested: true, cancelReason: 'timeout' }, 'Running (cancelling: timeout)'],
    ['a cancel reason without an error', { phase: 'Failed', cancelReason: 'deleted' }, 'Failed (deleted)'],
  ];
  for (const [name, st, want] of phases) it(`phase: ${name}`, () => assert.equal(phaseCell(st), want));

  it('a backup session row: configuration, sizes, snapshot, integrity and message', () => {
    const s: ListedItem = { metadata: md('nightly-1700000000', 3600), spec: { invoker: { kind: 'BackupConfiguration', name: 'nightly' }, trigger: 'schedule' }, status: { phase: 'Failed', error: { code: 'SIDESTASH_DUMP_FAILED', message: 'mariadb-dump exited 2' }, bytesRead: 3 * 1024 * 1024, durationSeconds: 12.34, agent: 'default/agent-0' } };
    const t = resourceTable('backupsessions', [s], { ...plain, wide: true });
    assert.deepEqual(t.headers, ['NAME', 'PHASE', 'CONFIGURATION', 'SIZE', 'SNAPSHOT', 'DURATION', 'INTEGRITY', 'AGE', 'MESSAGE', 'TRIGGER', 'AGENT', 'STORED', 'STARTED', 'FINISHED']);
    assert.deepEqual(t.rows[0], ['nightly-1700000000', 'Failed (DUMP_FAILED)', 'nightly', '3.0 MiB', '-', '12.3s', '-', '60m', 'mariadb-dump exited 2', 'schedule', 'default/agent-0', '-', '-', '-']);
  });

  it('a restore session row: target, repository, snapshot asked for until one is chosen', () => {
    const r: ListedItem = { metadata: md('restore-db-1', 30), spec: { repository: { name: 'repo' }, target: { ref: { name: 'db' } }, snapshot: 'latest' }, status: { phase: 'Running', progress: { bytesDumped: 2048 } } };
    assert.deepEqual(resourceTable('restoresessions', [r], plain).rows[0], ['restore-db-1', 'Running', 'db', 'repo', 'latest', '2.0 KiB', '-', '30s', '']);
  });

  it("a restore session in Stash's spelling shows the snapshot of its rule", () => {
    const r = (rules: unknown): ListedItem => ({ metadata: md('restore-db-2', 30), spec: { repository: { name: 'repo' }, target: { ref: { name: 'db' }, rules } } });
    const cell = (item: ListedItem): string | undefined => resourceTable('restoresessions', [item], plain).rows[0]![4];
    assert.equal(cell(r([{ snapshots: ['4c1d0e9a'] }])), '4c1d0e9a');
    assert.equal(cell(r([{ sourceHost: 'host-0' }])), 'latest');
    assert.equal(cell(r([{ snapshots: ['a1b2c3d4'] }, { snapshots: ['b1b2c3d4'] }])), '-', 'two rules: refused when it runs, so no snapshot');
  });
});

describe('get repositories', () => {
  it('backend, size, snapshots, last backup and the check', () => {
    const repo: ListedItem = { metadata: md('repo', 9 * 86400), spec: { backend: { local: { path: '/var/backups/repo' }, storageSecretName: 's' } }, status: { sizeBytes: 5 * 1024 ** 3, snapshotCount: 12, lastBackupTime: at(-3 * 3600), integrity: { ok: false, checkedAt: at(-3600), readDataSubset: '100%', errors: ['pack 1: bad'] } } };
    const t = resourceTable('repositories', [repo], plain);
    assert.deepEqual(t.headers, ['NAME', 'INTEGRITY', 'BACKEND', 'SIZE', 'SNAPSHOTS', 'LAST BACKUP', 'CHECKED', 'AGE', 'MESSAGE']);
    assert.deepEqual(t.rows[0], ['repo', 'FAILED (100%)', 'local:/var/backups/repo', '5.0 GiB', '12', '3h ago', '60m ago', '9d', 'repository check failed: pack 1: bad']);
    assert.deepEqual(resourceTable('repositories', [{ metadata: md('fresh', 60), spec: {} }], plain).rows[0], ['fresh', '-', '-', '-', '-', '-', '-', '60s', '']);
  });

  const backends: [string, Record<string, unknown>, string][] = [
    ['local', { backend: { local: { path: '/r' } } }, 'local:/r'],
    ['s3 with a prefix', { backend: { s3: { endpoint: 'https://s3.example.com/', bucket: 'b', prefix: 'p/q' } } }, 's3:s3.example.com/b/p/q'],
    ['rest without the credentials its URL carries', { backend: { rest: { url: 'https://user:secret@rest.example.com:8000/repo' } } }, 'rest:https://rest.example.com:8000/repo'],
    ['none', { backend: {} }, '-'],
  ];
  for (const [name, spec, want] of backends) it(`backend: ${name}`, () => assert.equal(backendCell(spec), want));
});

describe('get agents', () => {
  it('online or offline, last seen, version, targets; -A splits the namespace off', () => {
    const agents = [
      { name: 'default/agent-0', targets: ['default/db'], version: '0.1.0', lastSeenAt: at(-5), online: true, enrolledWith: 'bootstrap', registeredAt: at(-86400 * 3) },
      { name: 'team-a/edge-7', targets: ['team-a/x', 'team-a/y'], version: 3, lastSeenAt: at(-7200), online: false },
    ];
    assert.deepEqual(agentTable(agents, plain), { headers: ['NAME', 'STATUS', 'LAST SEEN', 'VERSION', 'TARGETS'], rows: [['agent-0', 'online', '5s ago', '0.1.0', 'default/db'], ['edge-7', 'offline', '2h ago', '-', 'team-a/x,team-a/y']] });
    const wide = agentTable(agents.slice(0, 1), { wide: true, allNamespaces: true, nowMs: NOW });
    assert.deepEqual(wide.headers, ['NAMESPACE', 'NAME', 'STATUS', 'LAST SEEN', 'VERSION', 'TARGETS', 'ENROLLED WITH', 'REGISTERED']);
    assert.deepEqual(wide.rows[0], ['default', 'agent-0', 'online', '5s ago', '0.1.0', 'default/db', 'bootstrap', '3d ago']);
  });
});

describe('get appbindings', () => {
  const ab = (clientConfig: unknown, namespace = 'shop'): ListedItem => ({ metadata: md('db', 60, namespace), spec: { type: 'kubedb.com/mariadb', clientConfig, secret: { name: 'db-auth' } } });
  const table: [string, ListedItem, string][] = [
    ['a socket', ab({ socket: '/run/mysqld/mysqld.sock' }), '/run/mysqld/mysqld.sock'],
    ['host and port', ab({ host: 'db.example.com', port: 3307 }), 'db.example.com:3307'],
    ['a host, the default port', ab({ host: 'db' }), 'db:3306'],
    ["KubeDB's service and url: the service's address in the AppBinding's namespace", ab({ service: { name: 'sample-mariadb', path: '/', port: 3306, scheme: 'mysql' }, url: 'tcp(sample-mariadb.demo.svc:3306)/' }), 'sample-mariadb.shop.svc:3306'],
    ['a url', ab({ url: 'tcp(db.example.com:3310)/' }), 'db.example.com:3310'],
    ['both spellings (refused when it runs)', ab({ host: 'db', url: 'tcp(db:3306)/' }), '-'],
    ['of the wrong type', ab('db:3306'), '-'],
  ];
  for (const [name, item, address] of table) {
    it(name, () => {
      const t = resourceTable('appbindings', [item], plain);
      assert.deepEqual(t.headers, ['NAME', 'TYPE', 'ADDRESS', 'SECRET', 'AGE']);
      assert.deepEqual(t.rows[0], ['db', 'kubedb.com/mariadb', address, 'db-auth', '60s']);
    });
  }
});
