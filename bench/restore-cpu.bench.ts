// The agent's own cost of a parallel restore: CPU seconds of the agent process per GiB of dump
// restored, and its peak RSS, on the restore benchmark's generated databases. CPU time is the
// figure to compare on a shared machine (wall time follows whoever else uses the cores). The
// client's CPU competes with mariadbd's for the cores, so it is what sets the restore's speed
// against myloader's (bench/mariadb-restore.bench.ts).
//
// Environment: SIDESTASH_BENCH_DB_MIB (default 128) of table data per database,
// SIDESTASH_BENCH_RUNS (default 3) restores per database and checkout,
// SIDESTASH_BENCH_DATABASES (default "events,many"), SIDESTASH_BENCH_PARALLEL (default 2), and
// SIDESTASH_BENCH_CHECKOUTS: other checkouts of sidestash (comma-separated paths, each with its
// node_modules) whose agents restore the same snapshots in turn with this one's, for a
// before-and-after comparison in one run. Every restore is checked with CHECKSUM TABLE.
import { join, resolve } from 'node:path';
import type { BackupAssignment, RestoreAssignment } from '../common/protocol.ts';
import { DEFAULT_DUMP_ARGS } from '../controller/resources/types.ts';
import { startMariaDB } from '../test/helpers/mariadb.ts';
import { DB_PASSWORD, DB_USER, createShop } from '../test/helpers/shop-db.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { buildAgent } from './agent-session.ts';
import type { SessionRun } from './agent-session.ts';
import { generateEvents, generateManyTables } from './bench-databases.ts';
import { checkRestored, tableChecksums } from './restore-check.ts';

const mib = Number(process.env.SIDESTASH_BENCH_DB_MIB ?? 128);
const runs = Math.max(1, Number(process.env.SIDESTASH_BENCH_RUNS ?? 3));
const parallel = Math.max(1, Number(process.env.SIDESTASH_BENCH_PARALLEL ?? 2));
const databases = (process.env.SIDESTASH_BENCH_DATABASES ?? 'events,many').split(',').filter((d) => d === 'events' || d === 'many');
const here = resolve(import.meta.dirname, '..');
const checkouts = [here, ...(process.env.SIDESTASH_BENCH_CHECKOUTS ?? '').split(',').filter(Boolean).map((p) => resolve(p))];
const PASSWORD = 'bench-repository-password';
const log = (s: string): void => void process.stderr.write(`${s}\n`);
/** The agent's CPU seconds per GiB of the dump it read and loaded. */
const perGiB = (run: SessionRun): number => run.m.cpuSeconds / ((run.r.bytesRead ?? 0) / 1073741824);

const dir = await tempDir('sidestash-bench-restore-cpu-');
const db = await startMariaDB({ bufferPoolBytes: 1024 * 1024 * 1024 });
try {
  const agents: { root: string; session: Awaited<ReturnType<typeof buildAgent>> }[] = [];
  for (const [i, root] of checkouts.entries()) agents.push({ root, session: await buildAgent(join(dir.path, `agent-${i}`), root) });
  await createShop(db, 10);
  const out: Record<string, unknown>[] = [];
  for (const key of databases) {
    const database = key === 'events' ? 'shop' : 'many';
    log(`generating ~${mib} MiB in ${database}...`);
    if (key === 'events') await generateEvents(db, 'shop', mib);
    else {
      await db.sql('CREATE DATABASE many');
      await generateManyTables(db, 'many', mib);
    }
    const checksums = await tableChecksums(db, database);
    const repo = join(dir.path, `repo-${key}`);
    const base = { namespace: 'bench', target: `bench/${database}`, repositoryName: 'bench', snapshotHost: database, database: { socket: db.socket, username: DB_USER, password: DB_PASSWORD }, repository: { location: `local:${repo}`, password: PASSWORD, credentials: {} } };
    const backup: BackupAssignment = { ...base, kind: 'BackupSession', name: `backup-${key}`, invoker: 'bench', dumpArgs: ['--databases', database, ...DEFAULT_DUMP_ARGS.filter((x) => x !== '--all-databases')], filename: 'dumpfile.sql' };
    await agents[0]!.session(backup);
    const results = agents.map(() => [] as SessionRun[]);
    for (let r = 0; r < runs; r++) {
      for (let a = 0; a < agents.length; a++) {
        // The order turns with each run, so that no checkout always follows the other's flushing.
        const k = (a + r) % agents.length;
        await db.sql(`DROP DATABASE IF EXISTS \`${database}\``);
        const restore = { ...base, kind: 'RestoreSession', name: `restore-${key}-${k}-${r}`, snapshot: 'latest', parallel } as RestoreAssignment;
        const run = await agents[k]!.session(restore);
        checkRestored(`restore of ${database} by ${agents[k]!.root}`, checksums, await tableChecksums(db, database));
        results[k]!.push(run);
        log(`  ${database} ${agents[k]!.root}: ${run.m.wallSeconds.toFixed(2)} s, CPU ${run.m.cpuSeconds.toFixed(2)} s (${perGiB(run).toFixed(2)} per GiB), peak RSS ${run.agentPeakRssMiB.toFixed(0)} MiB`);
      }
    }
    for (const [k, rs] of results.entries()) {
      const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
      out.push({
        database, checkout: agents[k]!.root, dumpMiB: Math.round((rs[0]!.r.bytesRead ?? 0) / 1048576),
        wallSeconds: Number(median(rs.map((x) => x.m.wallSeconds)).toFixed(2)),
        cpuSeconds: Number(median(rs.map((x) => x.m.cpuSeconds)).toFixed(2)),
        cpuSecondsPerGiB: Number(median(rs.map(perGiB)).toFixed(2)),
        peakRssMiB: Math.round(Math.max(...rs.map((x) => x.agentPeakRssMiB))),
        cpuSecondsEach: rs.map((x) => Number(x.m.cpuSeconds.toFixed(2))),
      });
    }
  }
  for (const o of out) process.stdout.write(`${JSON.stringify(o)}\n`);
} finally {
  await db.stop();
  await dir.cleanup();
}
