// Stash's metrics for a finished session, on tables: names (legacy and stash_appscode_com_),
// labels per level, what a failure pushes, job names and the AppBinding kind/group labels.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appLabels, stashJobName, stashMetrics } from './stash-metrics.ts';
import type { SessionFacts } from './stash-metrics.ts';

const backup: SessionFacts = {
  kind: 'BackupSession', namespace: 'demo', invokerName: 'sample-mariadb-backup',
  repository: { name: 'gcs-repo', namespace: 'demo', backend: 's3', bucket: 'stash-testing', prefix: '/demo/mariadb' },
  target: { name: 'sample-mariadb', type: 'kubedb.com/mariadb' },
  phase: 'Succeeded', sessionSeconds: 42, hostSeconds: 30, processingSeconds: 25, finishedAtSeconds: 1_700_000_000,
  bytesRead: 1000, bytesStored: 400, files: { new: 0, modified: 1, unmodified: 0 }, snapshotsRemoved: 2,
  repositoryStats: { sizeBytes: 5000, snapshotCount: 7 }, integrityOk: true,
};

const value = (samples: ReturnType<typeof stashMetrics>, name: string) => samples.filter((s) => s.name === name);

describe('stashJobName and appLabels', () => {
  const jobs: [SessionFacts['kind'], string, string, string][] = [
    ['BackupSession', 'demo', 'sample-mariadb-backup', 'backupconfiguration-demo-sample-mariadb-backup'],
    ['RestoreSession', 'demo', 'sample-mariadb-restore', 'restoresession-demo-sample-mariadb-restore'],
    ['BackupSession', 'Demo', 'Nightly', 'backupconfiguration-demo-nightly'],
  ];
  for (const [kind, ns, name, want] of jobs) it(`${kind} ${ns}/${name} -> ${want}`, () => assert.equal(stashJobName(kind, ns, name), want));
  const apps: [string | undefined, { kind: string; group: string }][] = [
    [undefined, { kind: 'mariadb', group: '' }],
    ['', { kind: 'mariadb', group: '' }],
    ['mariadb', { kind: 'mariadb', group: '' }],
    ['kubedb.com/mariadb', { kind: 'mariadb', group: 'kubedb.com' }],
    ['kubedb.com/MariaDB', { kind: 'mariadb', group: 'kubedb.com' }],
  ];
  for (const [type, want] of apps) it(`spec.type ${JSON.stringify(type)}`, () => assert.deepEqual(appLabels(type), want));
});

describe('stashMetrics', () => {
  it('a successful backup: every Stash gauge, under both names, with the labels of its level', () => {
    const m = stashMetrics(backup);
    const session = { invoker_kind: 'BackupConfiguration', invoker_name: 'sample-mariadb-backup', namespace: 'demo', driver: 'Restic', repository: 'gcs-repo' };
    const target = { ...session, kind: 'mariadb', group: 'kubedb.com', name: 'sample-mariadb' };
    const host = { ...target, hostname: 'host-0' };
    const repo = { ...session, name: 'gcs-repo', namespace: 'demo', backend: 's3', bucket: 'stash-testing', prefix: '/demo/mariadb' };
    const table: [string, Record<string, string>, number][] = [
      ['backup_session_success', session, 1], ['backup_session_duration_seconds', session, 42], ['backup_target_count_total', session, 1], ['backup_last_success_time_seconds', session, 1_700_000_000],
      ['backup_target_success', target, 1], ['backup_target_host_count_total', target, 1], ['backup_target_last_success_time_seconds', target, 1_700_000_000],
      ['backup_host_backup_success', host, 1], ['backup_host_backup_duration_seconds', host, 30], ['backup_host_data_size_bytes', host, 1000], ['backup_host_data_uploaded_bytes', host, 400],
      ['backup_host_data_processing_time_seconds', host, 25], ['backup_host_files_total', host, 1], ['backup_host_files_new', host, 0], ['backup_host_files_modified', host, 1], ['backup_host_files_unmodified', host, 0],
      ['repository_integrity', repo, 1], ['repository_size_bytes', repo, 5000], ['repository_snapshot_count', repo, 7], ['repository_snapshot_cleaned', repo, 2],
    ];
    const current = (legacy: string): string => legacy.startsWith('repository_') ? `stash_appscode_com_${legacy}` : `stash_appscode_com_backupsession_${legacy.replace(/^backup_(session_)?/, '')}`;
    for (const [name, labels, v] of table) {
      for (const full of [`stash_${name}`, current(name)]) assert.deepEqual(value(m, full).map((s) => [s.labels, s.value]), [[labels, v]], full);
    }
    assert.ok(value(m, 'stash_appscode_com_backupsession_success').length === 1, 'Stash\'s newer session name');
    assert.deepEqual(value(m, 'sidestash_backup_suspicious_shrink').map((s) => s.value), [0]);
    assert.deepEqual(value(m, 'sidestash_session_finished_timestamp_seconds').map((s) => [s.labels, s.value]), [[session, 1_700_000_000]]);
    assert.equal(m.length, table.length * 2 + 2, 'nothing else is pushed');
  });

  it('a failed backup pushes only the success gauges (0), so the group keeps its last success', () => {
    const m = stashMetrics({ ...backup, phase: 'Failed' });
    assert.deepEqual(m.map((s) => `${s.name}=${s.value}`).sort(), [
      'sidestash_session_finished_timestamp_seconds=1700000000',
      'stash_appscode_com_backupsession_host_backup_success=0', 'stash_appscode_com_backupsession_success=0', 'stash_appscode_com_backupsession_target_success=0',
      'stash_backup_host_backup_success=0', 'stash_backup_session_success=0', 'stash_backup_target_success=0',
    ]);
  });

  it('a failed backup of a configuration that succeeded before also carries that success time', () => {
    const m = stashMetrics({ ...backup, phase: 'Failed', lastSuccessAtSeconds: 1_600_000_000 });
    assert.deepEqual(value(m, 'stash_backup_last_success_time_seconds').map((s) => s.value), [1_600_000_000]);
    assert.deepEqual(value(m, 'stash_backup_target_last_success_time_seconds').map((s) => s.value), [1_600_000_000]);
    assert.deepEqual(value(m, 'stash_backup_session_success').map((s) => s.value), [0]);
  });

  it('no check ran: no integrity gauge; no stats: no size; no bucket or prefix on a local repository', () => {
    const { integrityOk: _i, repositoryStats: _r, ...rest } = backup;
    const m = stashMetrics({ ...rest, repository: { name: 'r', namespace: 'demo', backend: 'local' } });
    assert.equal(value(m, 'stash_repository_integrity').length, 0);
    assert.equal(value(m, 'stash_repository_size_bytes').length, 0);
    assert.deepEqual(Object.keys(value(m, 'stash_repository_snapshot_cleaned')[0]!.labels).sort(), ['backend', 'driver', 'invoker_kind', 'invoker_name', 'name', 'namespace', 'repository']);
  });

  it('a failed integrity check is 0; a flagged shrink is 1', () => {
    const m = stashMetrics({ ...backup, integrityOk: false, suspiciousShrink: true });
    assert.deepEqual(value(m, 'stash_repository_integrity').map((s) => s.value), [0]);
    assert.deepEqual(value(m, 'sidestash_backup_suspicious_shrink').map((s) => s.value), [1]);
  });

  it('restores: Stash\'s restore gauges, only the success ones on failure', () => {
    const restore: SessionFacts = { ...backup, kind: 'RestoreSession', invokerName: 'sample-mariadb-restore' };
    const ok = stashMetrics(restore);
    assert.deepEqual([...new Set(ok.map((s) => s.name))].sort(), [
      'sidestash_session_finished_timestamp_seconds', 'stash_appscode_com_restoresession_duration_seconds', 'stash_appscode_com_restoresession_host_restore_duration_seconds', 'stash_appscode_com_restoresession_host_restore_success',
      'stash_appscode_com_restoresession_success', 'stash_appscode_com_restoresession_target_count_total', 'stash_appscode_com_restoresession_target_host_count_total', 'stash_appscode_com_restoresession_target_success',
      'stash_restore_host_restore_duration_seconds', 'stash_restore_host_restore_success', 'stash_restore_session_duration_seconds', 'stash_restore_session_success',
      'stash_restore_target_count_total', 'stash_restore_target_host_count_total', 'stash_restore_target_success',
    ]);
    assert.equal(value(ok, 'stash_restore_session_success')[0]!.labels.invoker_kind, 'RestoreSession');
    assert.equal(value(ok, 'stash_restore_host_restore_duration_seconds')[0]!.value, 30);
    const failed = stashMetrics({ ...restore, phase: 'Failed', lastSuccessAtSeconds: 1 });
    assert.deepEqual([...new Set(failed.map((s) => `${s.name}=${s.value}`))].sort(), [
      'sidestash_session_finished_timestamp_seconds=1700000000', 'stash_appscode_com_restoresession_host_restore_success=0', 'stash_appscode_com_restoresession_success=0', 'stash_appscode_com_restoresession_target_success=0',
      'stash_restore_host_restore_success=0', 'stash_restore_session_success=0', 'stash_restore_target_success=0',
    ]);
  });
});
