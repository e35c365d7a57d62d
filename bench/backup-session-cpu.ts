// The agent's backup session alone, repeated, on one generated database that stays up between
// runs: for measuring a change to the backup path (CPU-seconds and peak RSS of the agent's
// process are steadier than wall time on a shared machine) and for profiles.
//   node bench/backup-session-cpu.ts serve STATE.json   starts MariaDB with ~SIDESTASH_BENCH_DB_MIB MiB
//        (the events table, 256 by default), writes its socket to STATE.json and runs until killed;
//   node bench/backup-session-cpu.ts run STATE.json [parallel|mariadb-dump] [RUNS]
//        compiles this checkout's agent and runs RUNS backup sessions (3 by default), printing
//        each one's wall time, agent CPU-seconds and peak RSS, then the medians as one JSON line.
// SIDESTASH_BENCH_AGENT_NODE_ARGS (e.g. --cpu-prof --cpu-prof-dir=DIR) goes to the agent's node;
// SIDESTASH_BENCH_KEEP_OUTPUT=FILE keeps the last session's output (with --trace-gc, its collections).
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackupAssignment } from '../common/protocol.ts';
import { startMariaDB } from '../test/helpers/mariadb.ts';
import { DB_PASSWORD, DB_USER, createShop } from '../test/helpers/shop-db.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { buildAgent } from './agent-session.ts';
import { generateEvents } from './bench-databases.ts';

const [mode, stateFile, dumper = 'parallel', runsArg = '3'] = process.argv.slice(2);
if (!stateFile || (mode !== 'serve' && mode !== 'run')) throw new Error('usage: node bench/backup-session-cpu.ts serve|run STATE.json [parallel|mariadb-dump] [RUNS]');

if (mode === 'serve') {
  const mib = Number(process.env.SIDESTASH_BENCH_DB_MIB ?? 256);
  const db = await startMariaDB({ bufferPoolBytes: 2 * 1024 * 1024 * 1024 });
  await createShop(db, 1000);
  await generateEvents(db, 'shop', mib);
  await writeFile(stateFile, JSON.stringify({ socket: db.socket, mib }));
  process.stderr.write(`serving ${mib} MiB at ${db.socket}\n`);
  const stop = (): void => void db.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  setInterval(() => {}, 1 << 30);
} else {
  const { socket } = JSON.parse(await readFile(stateFile, 'utf8')) as { socket: string };
  const dir = await tempDir('sidestash-bench-');
  try {
    // SIDESTASH_BENCH_AGENT_ROOT: another checkout's agent (an export of an earlier commit, to compare).
    const session = await buildAgent(dir.path, process.env.SIDESTASH_BENCH_AGENT_ROOT);
    const runs: { wallSeconds: number; cpuSeconds: number; peakRssMiB: number }[] = [];
    for (let i = 0; i < Number(runsArg); i++) {
      const a: BackupAssignment = {
        namespace: 'bench', target: 'bench/shop', repositoryName: 'bench', snapshotHost: 'shop',
        database: { socket, username: DB_USER, password: DB_PASSWORD },
        repository: { location: `local:${join(dir.path, `repo-${i}`)}`, password: 'bench-repository-password', credentials: {} },
        kind: 'BackupSession', name: `run-${i}`, invoker: 'bench', filename: 'dumpfile.sql',
        dumpArgs: ['--all-databases', '--single-transaction', '--routines', '--events', '--triggers'],
        ...(dumper === 'parallel' ? { dumper: 'parallel' as const, parallel: 2 } : {}),
      };
      const r = await session(a);
      // SIDESTASH_BENCH_KEEP_OUTPUT=FILE: the last session's output (e.g. with --trace-gc) is kept there.
      if (process.env.SIDESTASH_BENCH_KEEP_OUTPUT) await copyFile(join(dir.path, `${a.name}.out`), process.env.SIDESTASH_BENCH_KEEP_OUTPUT);
      const m = { wallSeconds: r.m.wallSeconds, cpuSeconds: r.m.cpuSeconds, peakRssMiB: r.agentPeakRssMiB };
      runs.push(m);
      process.stderr.write(`${dumper} run ${i + 1}: ${m.wallSeconds.toFixed(2)} s wall, ${m.cpuSeconds.toFixed(2)} CPU-s, agent peak RSS ${m.peakRssMiB.toFixed(0)} MiB\n`);
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    process.stdout.write(`${JSON.stringify({ dumper, runs: runs.length, wallSeconds: median(runs.map((r) => r.wallSeconds)), cpuSeconds: median(runs.map((r) => r.cpuSeconds)), peakRssMiB: Math.round(Math.max(...runs.map((r) => r.peakRssMiB))) })}\n`);
  } finally {
    await dir.cleanup();
  }
}
