// The controller's /metrics text on tables of store states: sessions driven through the
// SessionManager with an injected clock, then the registry scraped and parsed sample by sample.
import assert from 'node:assert/strict';
import { upsert } from '../store/upsert.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ErrorCodes } from '../../common/errors.ts';
import { createLogger } from '../../common/log.ts';
import { createMetrics } from '../metrics.ts';
import type { BackupConfigurationSpec } from '../resources/types.ts';
import { SessionManager } from '../sessions/session-manager.ts';
import type { AgentRecord } from '../store/store.ts';
import { Store } from '../store/store.ts';

const LEASE_MS = 60_000;
const T0 = Date.parse('2026-03-01T10:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const agent: AgentRecord = { name: 'default/agent-0', tokenSha256: 'x', targets: ['default/db', 'default/db2'], version: '1.2.3', registeredAt: iso(T0), lastSeenAt: iso(T0) };
const shrink = { previousSnapshotId: 'c'.repeat(64), previousBytes: 1000, bytes: 10, percent: 1, thresholdPercent: 50 };

type Labels = Record<string, string>;
interface Sample { name: string; labels: Labels; value: number }

/** Every sample of the exposition text (no escaped quotes in these tests' label values). */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Labels = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="([^"]*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

describe('controller /metrics', () => {
  let dir: string;
  let store: Store;
  let sessions: SessionManager;
  const clock = { now: T0 };
  let scrape: () => Promise<Sample[]>;
  const value = async (name: string, labels: Labels): Promise<number | undefined> => {
    const found = (await scrape()).filter((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()));
    assert.ok(found.length <= 1, `one sample of ${name} ${JSON.stringify(labels)}`);
    return found[0]?.value;
  };
  const put = async (kind: string, name: string, spec: Record<string, unknown>, status?: Record<string, unknown>): Promise<void> => {
    (await upsert(store, { apiVersion: 'sidestash.io/v1', kind: kind as 'Repository', metadata: { name, namespace: 'default', creationTimestamp: iso(T0) }, spec, ...(status ? { status } : {}) }));
  };
  const config = (name: string, target: string, spec: Partial<BackupConfigurationSpec> = {}): Promise<void> => put('BackupConfiguration', name, { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: target } }, ...spec });
  /** Runs one backup of `cfg` to the end at the clock's time, lasting `seconds`. */
  const backup = async (cfg: string, phase: 'Succeeded' | 'Failed', seconds = 10, extra: Record<string, unknown> = {}): Promise<string> => {
    const name = (await sessions.createBackupSession('default', cfg, 'schedule'))!.metadata.name;
    store.putAgent({ ...agent, lastSeenAt: iso(clock.now) });
    assert.equal((await sessions.claimNext({ ...agent, targets: agent.targets }))?.name, name);
    clock.now += seconds * 1000;
    (await sessions.complete('BackupSession', 'default', name, agent.name, phase === 'Succeeded' ? { phase, snapshotId: 'a'.repeat(64), ...extra } : { phase, error: { code: ErrorCodes.DUMP_FAILED, message: 'x' } }));
    return name;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sidestash-metrics-'));
  });
  after(async () => {
    store?.close();
    await rm(dir, { recursive: true, force: true });
  });
  let n = 0;
  beforeEach(async () => {
    store?.close();
    store = new Store(join(dir, `c-${++n}.db`));
    clock.now = T0;
    sessions = new SessionManager(store, createLogger({}, { level: 'error' }), { leaseMs: LEASE_MS, now: () => clock.now });
    const { registry } = createMetrics(store, LEASE_MS, () => clock.now);
    scrape = async () => parse(await registry.metrics());
    await put('Secret', 'repo-secret', { stringData: { RESTIC_PASSWORD: 'pw' } });
    await put('Secret', 'db-secret', { stringData: { username: 'u', password: 'p' } });
    await put('Repository', 'repo', { backend: { local: { path: '/tmp/repo' }, storageSecretName: 'repo-secret' } });
    await put('AppBinding', 'db', { clientConfig: { socket: '/s' }, secret: { name: 'db-secret' } });
    await put('AppBinding', 'db2', { clientConfig: { socket: '/s' }, secret: { name: 'db-secret' } });
  });

  const nightly = { namespace: 'default', configuration: 'nightly', target: 'db' };

  it('a configuration that never ran: created, period, not paused, no failures; no last phase, duration or success', async () => {
    await config('nightly', 'db');
    const want: [string, Labels, number | undefined][] = [
      ['sidestash_backup_configuration_created_timestamp_seconds', nightly, T0 / 1000],
      ['sidestash_backup_schedule_period_seconds', nightly, 86_400],
      ['sidestash_backup_paused', nightly, 0],
      ['sidestash_backup_consecutive_failures', nightly, 0],
      ['sidestash_backup_suspicious_shrink', nightly, 0],
      ['sidestash_backup_last_success_timestamp_seconds', nightly, undefined],
      ['sidestash_backup_last_duration_seconds', nightly, undefined],
      ['sidestash_backup_last_phase', { ...nightly, phase: 'Succeeded' }, undefined],
      ['sidestash_backup_last_phase', { ...nightly, phase: 'Failed' }, undefined],
      ['sidestash_backup_last_phase', { ...nightly, phase: 'Cancelled' }, undefined],
    ];
    for (const [name, labels, v] of want) assert.equal(await value(name, labels), v, name);
  });

  it('a failure after a success: last_phase Failed=1, consecutive_failures 1, the old success time, the failure\'s duration', async () => {
    await config('nightly', 'db');
    await backup('nightly', 'Succeeded', 30);
    const successAt = clock.now / 1000;
    clock.now += 86_400_000;
    await backup('nightly', 'Failed', 4);
    const want: [string, Labels, number | undefined][] = [
      ['sidestash_backup_last_phase', { ...nightly, phase: 'Failed' }, 1],
      ['sidestash_backup_last_phase', { ...nightly, phase: 'Succeeded' }, 0],
      ['sidestash_backup_last_phase', { ...nightly, phase: 'Cancelled' }, 0],
      ['sidestash_backup_consecutive_failures', nightly, 1],
      ['sidestash_backup_last_success_timestamp_seconds', nightly, successAt],
      ['sidestash_backup_last_duration_seconds', nightly, 4],
    ];
    for (const [name, labels, v] of want) assert.equal(await value(name, labels), v, name);
  });

  it('a cancelled backup: last_phase Cancelled=1, neither a failure nor a success; counted as Cancelled', async () => {
    await config('nightly', 'db');
    await backup('nightly', 'Failed', 4);
    const successAt = undefined;
    const name = (await sessions.createBackupSession('default', 'nightly', 'manual'))!.metadata.name;
    (await sessions.cancel('BackupSession', 'default', name));
    const want: [string, Labels, number | undefined][] = [
      ['sidestash_backup_last_phase', { ...nightly, phase: 'Cancelled' }, 1],
      ['sidestash_backup_last_phase', { ...nightly, phase: 'Failed' }, 0],
      ['sidestash_backup_last_phase', { ...nightly, phase: 'Succeeded' }, 0],
      ['sidestash_backup_consecutive_failures', nightly, 1],
      ['sidestash_backup_last_success_timestamp_seconds', nightly, successAt],
      ['sidestash_sessions', { kind: 'BackupSession', phase: 'Cancelled' }, 1],
    ];
    for (const [metric, labels, v] of want) assert.equal(await value(metric, labels), v, `${metric} ${JSON.stringify(labels)}`);
  });

  it('each configuration has its own row: one failing beside another succeeding on the same target', async () => {
    await config('nightly', 'db');
    await config('schema-only', 'db', { schedule: '0 */6 * * *' });
    await backup('nightly', 'Failed');
    await backup('schema-only', 'Succeeded');
    const schema = { namespace: 'default', configuration: 'schema-only', target: 'db' };
    assert.equal(await value('sidestash_backup_last_phase', { ...nightly, phase: 'Failed' }), 1);
    assert.equal(await value('sidestash_backup_last_phase', { ...schema, phase: 'Failed' }), 0);
    assert.equal(await value('sidestash_backup_last_phase', { ...schema, phase: 'Succeeded' }), 1);
    assert.equal(await value('sidestash_backup_schedule_period_seconds', schema), 21_600);
  });

  it('the values do not change when old sessions are pruned from history', async () => {
    await config('nightly', 'db');
    const flagged = await backup('nightly', 'Succeeded', 30, { suspiciousShrink: shrink });
    await backup('nightly', 'Failed', 5);
    const perConfiguration = async (): Promise<Sample[]> => (await scrape()).filter((s) => s.name.startsWith('sidestash_backup_'));
    const before = await perConfiguration();
    assert.equal(before.find((s) => s.name === 'sidestash_backup_suspicious_shrink')?.value, 1);
    // Every finished session is pruned (as #pruneHistory does to old ones): the metrics stay.
    for (const s of (await store.list('BackupSession'))) (await store.delete('BackupSession', 'default', s.metadata.name));
    assert.equal((await store.get('BackupSession', 'default', flagged)), undefined);
    assert.deepEqual(await perConfiguration(), before);
    // And the history limit itself (5) drops the success after five more failures: still its time.
    for (let i = 0; i < 5; i++) await backup('nightly', 'Failed', 5);
    assert.equal(await value('sidestash_backup_consecutive_failures', nightly), 6);
    assert.equal(await value('sidestash_backup_last_success_timestamp_seconds', nightly), before.find((s) => s.name === 'sidestash_backup_last_success_timestamp_seconds')?.value);
  });

  it('a later success without a shrink clears suspicious_shrink; a failure does not', async () => {
    await config('nightly', 'db');
    await backup('nightly', 'Succeeded', 1, { suspiciousShrink: shrink });
    await backup('nightly', 'Failed');
    assert.equal(await value('sidestash_backup_suspicious_shrink', nightly), 1);
    await backup('nightly', 'Succeeded');
    assert.equal(await value('sidestash_backup_suspicious_shrink', nightly), 0);
  });

  it('a paused configuration: paused 1, no schedule period', async () => {
    await config('nightly', 'db', { paused: true });
    assert.equal(await value('sidestash_backup_paused', nightly), 1);
    assert.equal(await value('sidestash_backup_schedule_period_seconds', nightly), undefined);
  });

  it('binlog archive gauges: only with archiving on and not paused; a holder that stops reporting shows down with a growing lag, never an old 0', async () => {
    await config('plain', 'db');
    await config('archived', 'db', { binlog: { enabled: true } });
    const archived = { namespace: 'default', configuration: 'archived', target: 'db' };
    assert.equal(await value('sidestash_binlog_archive_up', { namespace: 'default', configuration: 'plain', target: 'db' }), undefined);
    // Never archived: down, lagging since the configuration was created.
    clock.now = T0 + 60_000;
    assert.equal(await value('sidestash_binlog_archive_up', archived), 0);
    assert.equal(await value('sidestash_binlog_archive_lag_seconds', archived), 60);
    const running = { agent: 'default/a', leaseExpiresAt: iso(clock.now + 30_000), flushedAt: iso(clock.now - 2000), lastEventTime: iso(clock.now - 3000), lagSeconds: 1.5, bytesArchived: 4096, gaps: 2 };
    await put('BackupConfiguration', 'archived', { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } }, binlog: { enabled: true } }, { binlog: running });
    const want: [string, number | undefined][] = [
      ['sidestash_binlog_archive_up', 1],
      ['sidestash_binlog_archive_lag_seconds', 1.5],
      ['sidestash_binlog_archive_last_flush_timestamp_seconds', (clock.now - 2000) / 1000],
      ['sidestash_binlog_archive_last_event_timestamp_seconds', (clock.now - 3000) / 1000],
      ['sidestash_binlog_archived_bytes', 4096],
      ['sidestash_binlog_archive_gaps', 2],
    ];
    for (const [name, v] of want) assert.equal(await value(name, archived), v, name);
    // The lease runs out without a report: down, and the lag grows from the last flush.
    clock.now += 120_000;
    assert.equal(await value('sidestash_binlog_archive_up', archived), 0);
    assert.equal(await value('sidestash_binlog_archive_lag_seconds', archived), 122);
    // An archiver that reports an error is down too.
    await put('BackupConfiguration', 'archived', { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } }, binlog: { enabled: true } }, { binlog: { ...running, leaseExpiresAt: iso(clock.now + 30_000), error: { code: 'SIDESTASH_BINLOG_UNSUITABLE', message: 'log_bin is OFF' } } });
    assert.equal(await value('sidestash_binlog_archive_up', archived), 0);
  });

  it('repository integrity from Repository status.integrity.ok; absent until a check ran', async () => {
    const table: [string, Record<string, unknown> | undefined, number | undefined][] = [
      ['never-checked', undefined, undefined],
      ['checked-ok', { integrity: { ok: true, checkedAt: iso(T0), session: 's' } }, 1],
      ['checked-bad', { integrity: { ok: false, checkedAt: iso(T0), session: 's', errors: ['pack x: wrong hash'] } }, 0],
      ['garbage', { integrity: { ok: 'yes' } }, undefined],
    ];
    for (const [name, status] of table) await put('Repository', name, { backend: { local: { path: '/r' }, storageSecretName: 'repo-secret' } }, status);
    for (const [name, , v] of table) assert.equal(await value('sidestash_repository_integrity', { namespace: 'default', repository: name }), v, name);
  });

  it('oldest Pending (since creation) and Running (since start) age per kind; 0 when none', async () => {
    await config('nightly', 'db');
    await config('other', 'db2');
    const age = (kind: string, phase: string) => value('sidestash_session_oldest_age_seconds', { kind, phase });
    assert.equal(await age('BackupSession', 'Pending'), 0);
    (await sessions.createBackupSession('default', 'nightly', 'schedule'));
    clock.now = T0 + 30_000;
    (await sessions.createBackupSession('default', 'other', 'schedule'));
    clock.now = T0 + 90_000;
    assert.equal(await age('BackupSession', 'Pending'), 90);
    assert.equal(await age('BackupSession', 'Running'), 0);
    store.putAgent({ ...agent, lastSeenAt: iso(clock.now) });
    (await sessions.claimNext(agent)); // the older one starts now
    clock.now = T0 + 100_000;
    assert.equal(await age('BackupSession', 'Running'), 10);
    assert.equal(await age('BackupSession', 'Pending'), 70);
    assert.equal(await age('RestoreSession', 'Pending'), 0);
    assert.equal(await age('RestoreSession', 'Running'), 0);
  });

  it('each registered agent with namespace, name and version: 1 while within the lease, then 0', async () => {
    store.putAgent({ ...agent, lastSeenAt: iso(T0) });
    store.putAgent({ ...agent, name: 'team-a/edge-7', version: '0.9', lastSeenAt: iso(T0 - LEASE_MS) });
    assert.equal(await value('sidestash_agent_online', { namespace: 'default', name: 'agent-0', version: '1.2.3' }), 1);
    assert.equal(await value('sidestash_agent_online', { namespace: 'team-a', name: 'edge-7', version: '0.9' }), 0);
    assert.equal(await value('sidestash_agents_online', {}), 1);
    clock.now = T0 + LEASE_MS;
    assert.equal(await value('sidestash_agent_online', { namespace: 'default', name: 'agent-0', version: '1.2.3' }), 0);
  });

  it('the finished-sessions counter starts at 0 for each kind and phase', async () => {
    for (const kind of ['BackupSession', 'RestoreSession']) for (const phase of ['Succeeded', 'Failed', 'Cancelled']) assert.equal(await value('sidestash_sessions_finished_total', { kind, phase }), 0);
  });
});
