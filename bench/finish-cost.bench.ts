// What a finished BackupSession costs the controller's event loop: the session manager's finish
// (the session's own status write and the writes derived from it: the Repository's check and
// last backup, the configuration's outcome, the history prune) against the sqlite store on disk,
// in-process, at fleet scale (SIDESTASH_BENCH_CONFIGURATIONS configurations with a Repository
// each in one namespace, default 2,000, histories full so every finish prunes one session).
// The sqlite store answers synchronously (its disk syncs included), so a finish's wall time is
// time the event loop serves nobody else. Two ways, alternating in blocks: `synced`, every write
// synced (the derived writes' durability taken away: the controller before finish-durability.ts),
// and `relaxed`, as the controller writes now. SIDESTASH_BENCH_FINISHES finishes each (default
// 300); SIDESTASH_BENCH_DIR the directory of the database (default the system's temporary one:
// the disk the sync costs are those of). Prints the figures, the ratio, and a one-line JSON summary.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../common/log.ts';
import type { SessionResult } from '../common/protocol.ts';
import type { BatchWrite } from '../controller/store/resource-store.ts';
import { SessionManager } from '../controller/sessions/session-manager.ts';
import type { SessionStore } from '../controller/sessions/session-manager.ts';
import type { AgentRecord } from '../controller/store/agent-directory.ts';
import { SqliteStore } from '../controller/store/sqlite-store.ts';

const configurations = Number(process.env.SIDESTASH_BENCH_CONFIGURATIONS ?? 2000);
const finishes = Number(process.env.SIDESTASH_BENCH_FINISHES ?? 300);
const HISTORY = 3;
const BLOCK = 50;
const ns = 'default';
const dir = mkdtempSync(join(process.env.SIDESTASH_BENCH_DIR ?? tmpdir(), 'sidestash-finish-cost-'));
const store = new SqliteStore(join(dir, 'controller.db'), { encryptionKey: { text: Buffer.alloc(32, 9).toString('base64'), setting: 'bench' } });

const n = (i: number): string => String(i).padStart(5, '0');
const nowIso = new Date().toISOString();
const meta = (name: string) => ({ name, namespace: ns });
const doc = (kind: string, name: string, spec: unknown, status?: unknown): BatchWrite => ({ op: 'create', resource: { apiVersion: 'sidestash.io/v1', kind, metadata: meta(name), spec, ...(status ? { status } : {}) } as never });
// The fleet bench's resources (bench/fleet/fleet-setup.ts), and each configuration's history full
// of finished sessions; the Repositories checked and read recently (no read-data check is due).
const seed: BatchWrite[] = [doc('Secret', 'repo-secret', { stringData: { RESTIC_PASSWORD: 'pw' } }), doc('Secret', 'db-auth', { stringData: { username: 'u', password: 'p' } })];
for (let i = 0; i < configurations; i++) {
  seed.push(doc('AppBinding', `site-${n(i)}-db`, { type: 'mariadb', clientConfig: { host: '127.0.0.1', port: 3306 }, secret: { name: 'db-auth' } }));
  seed.push(doc('Repository', `site-${n(i)}-repo`, { backend: { local: { path: '/tmp/repo' }, storageSecretName: 'repo-secret' } }, { integrity: { ok: true, checkedAt: nowIso, session: 'seed' }, lastReadDataCheckAt: nowIso, sizeBytes: 1, snapshotCount: 1 }));
  seed.push(doc('BackupConfiguration', `site-${n(i)}-backup`, { schedule: '0 3 * * *', repository: { name: `site-${n(i)}-repo` }, target: { ref: { kind: 'AppBinding', name: `site-${n(i)}-db` } }, backupHistoryLimit: HISTORY, timeout: '30m' }));
  for (let h = 0; h < HISTORY; h++) {
    const at = new Date(Date.now() - (HISTORY - h) * 3_600_000).toISOString();
    seed.push(doc('BackupSession', `site-${n(i)}-backup-seed${h}`, { invoker: { kind: 'BackupConfiguration', name: `site-${n(i)}-backup` }, trigger: 'schedule' }, { phase: 'Succeeded', startedAt: at, finishedAt: at, durationSeconds: 1 }));
  }
}
await store.applyBatch(seed);

/** The store as the controller used it before: every write synced (no durability passed on). */
const allSynced = new Proxy(store, {
  get(target, prop) {
    if (prop === 'updateStatus') return (r: never, o: { ifVersion: string }) => target.updateStatus(r, { ifVersion: o.ifVersion });
    if (prop === 'delete') return (kind: never, nsp: string, name: string, o: { ifVersion?: string } = {}) => target.delete(kind, nsp, name, o.ifVersion === undefined ? {} : { ifVersion: o.ifVersion });
    const v = Reflect.get(target, prop, target) as unknown;
    return typeof v === 'function' ? v.bind(target) : v;
  },
}) as SessionStore;

const silent = createLogger({}, { write: () => {} });
const managers = { synced: new SessionManager(allSynced, silent, { leaseMs: 60_000 }), relaxed: new SessionManager(store, silent, { leaseMs: 60_000 }) };
const result: SessionResult = { phase: 'Succeeded', snapshotId: 'a'.repeat(64), bytesRead: 1000, bytesStored: 100, repositoryStats: { sizeBytes: 1000, snapshotCount: 3 }, integrity: { ok: true, checkedAt: nowIso, errors: [] } };
const times = { synced: [] as number[], relaxed: [] as number[] };
const cpu = { synced: 0, relaxed: 0 };
let next = 0;

async function finishOne(way: 'synced' | 'relaxed'): Promise<void> {
  const i = next++ % configurations;
  const sessions = managers[way];
  const agent: AgentRecord = { name: `${ns}/agent-${n(i)}`, tokenSha256: 'x', targets: [`${ns}/site-${n(i)}-db`], version: 'bench', registeredAt: nowIso, lastSeenAt: nowIso };
  const created = await sessions.createBackupSession(ns, `site-${n(i)}-backup`, 'manual');
  if (!created || !(await sessions.claimNext(agent))) throw new Error(`site ${i}: no session to finish`);
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  await sessions.complete('BackupSession', ns, created.metadata.name, agent.name, result);
  times[way].push(performance.now() - start);
  const used = process.cpuUsage(cpuStart);
  cpu[way] += (used.user + used.system) / 1e6;
}

for (let w = 0; w < 20; w++) await finishOne(w % 2 === 0 ? 'synced' : 'relaxed'); // warm-up (JIT, statement cache)
times.synced.length = times.relaxed.length = 0;
cpu.synced = cpu.relaxed = 0;
for (let done = 0; done < finishes; done += BLOCK) {
  for (const way of ['synced', 'relaxed'] as const) for (let b = 0; b < BLOCK; b++) await finishOne(way);
}
store.close();
rmSync(dir, { recursive: true, force: true });

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p50: at(0.5), p99: at(0.99) };
};
const synced = stats(times.synced);
const relaxed = stats(times.relaxed);
process.stdout.write(`${configurations} configurations, ${times.relaxed.length} finishes each way, database in ${process.env.SIDESTASH_BENCH_DIR ?? tmpdir()}\n`);
for (const [way, label, s] of [['synced', 'every write synced', synced], ['relaxed', 'derived writes relaxed (now)', relaxed]] as const) {
  process.stdout.write(`${label}: event loop per finish mean ${s.mean.toFixed(2)} ms, p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms; CPU ${((cpu[way] / times[way].length) * 1000).toFixed(2)} ms\n`);
}
process.stdout.write(`relaxed vs synced (mean): ${(relaxed.mean / synced.mean).toFixed(2)}x\n`);
process.stdout.write(`${JSON.stringify({ configurations, finishes: times.relaxed.length, syncedMeanMs: +synced.mean.toFixed(3), syncedP99Ms: +synced.p99.toFixed(3), relaxedMeanMs: +relaxed.mean.toFixed(3), relaxedP99Ms: +relaxed.p99.toFixed(3), syncedCpuMs: +((cpu.synced / times.synced.length) * 1000).toFixed(3), relaxedCpuMs: +((cpu.relaxed / times.relaxed.length) * 1000).toFixed(3), relaxedVsSynced: +(relaxed.mean / synced.mean).toFixed(2) })}\n`);
