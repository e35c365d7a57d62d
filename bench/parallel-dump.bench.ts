// The parallel dumper (spec.dumper: parallel) against the reference pipelines on a generated
// MariaDB database (SIDESTASH_BENCH_DB_MIB, 256 MiB by default; the events table of
// bench/bench-databases.ts), all in one run, interleaved (SIDESTASH_BENCH_RUNS, 3 by default):
//   raw `mariadb-dump > /dev/null`, Stash's `mariadb-dump | restic backup --stdin`,
//   `mydumper -t 2 -r 50000` into local files, uncompressed and with its compression (-c),
//   the sidestash agent's backup with mariadb-dump and with the parallel dumper (2 connections;
//   chunking, encryption, compression and upload to a local repository included).
// Prints wall and CPU times, peak RSS, the ratios the targets are stated in (<= 0.5x Stash's
// pipeline, <= 1.5x mydumper -t 2 uncompressed, agent peak RSS <= 128 MiB), where the CPU goes
// (mariadbd serving the reads, the dumper alone, the writer's stages, the rest), the floor (the
// least time any backup in this repository format could take on this machine: mydumper's CPU and
// mariadbd's plus the writer's essential stages, spread over every core) and a one-line JSON summary. Wall times vary by ~10% from run to run on shared machines.
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { writeClientOptionsFile } from '../agent/client-options-file.ts';
import type { BackupAssignment } from '../common/protocol.ts';
import { startMariaDB } from '../test/helpers/mariadb.ts';
import type { MariaDB } from '../test/helpers/mariadb.ts';
import { DB_PASSWORD, DB_USER, createShop } from '../test/helpers/shop-db.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { AGENT_IMAGE_ENV, buildAgent } from './agent-session.ts';
import type { SessionRun } from './agent-session.ts';
import { backupStagesCpu, formatStages } from './backup-cpu.ts';
import { generateEvents } from './bench-databases.ts';
import { measure, ratio, summarize } from './measure.ts';
import type { Measurement } from './measure.ts';
import { serverCpuSeconds } from './server-cpu.ts';

const mib = Number(process.env.SIDESTASH_BENCH_DB_MIB ?? 256);
const runs = Math.max(1, Number(process.env.SIDESTASH_BENCH_RUNS ?? 3));
const PARALLEL = 2;
const PASSWORD = 'bench-repository-password';
const log = (s: string): void => void process.stderr.write(`${s}\n`);

async function withServerCpu<T>(db: MariaDB, f: () => Promise<T>): Promise<{ value: T; serverCpuSeconds: number }> {
  const before = await serverCpuSeconds(db);
  const value = await f();
  return { value, serverCpuSeconds: (await serverCpuSeconds(db)) - before };
}

const dir = await tempDir('sidestash-bench-');
const session = await buildAgent(dir.path);
const db = await startMariaDB({ bufferPoolBytes: 2 * 1024 * 1024 * 1024 });
try {
  await createShop(db, 1000);
  log(`generating ~${mib} MiB of table data (rows of ~1 KiB: text, numbers and random hex)...`);
  await generateEvents(db, 'shop', mib);
  const opts = await writeClientOptionsFile(dir.path, { socket: db.socket, username: DB_USER, password: DB_PASSWORD });
  const dumpArgs = ['--all-databases', '--single-transaction', '--routines', '--events', '--triggers'];
  const dump = `mariadb-dump --defaults-extra-file=${opts.path} ${dumpArgs.join(' ')}`;
  // mydumper and the dumper alone as root over the socket (the bench user's password is made to be hard to quote).
  const mydumper = (out: string, compress: boolean): string => `rm -rf ${out} && mydumper -u root -S ${db.socket} -t ${PARALLEL} -r 50000 ${compress ? '-c ' : ''}-o ${out} && du -sb ${out} > ${out}.size`;
  await measure(`${dump} | wc -c > ${dir.path}/size`);
  const dumpBytes = Number((await readFile(join(dir.path, 'size'), 'utf8')).trim());
  const env = { RESTIC_PASSWORD: PASSWORD };
  const base = { namespace: 'bench', target: 'bench/shop', repositoryName: 'bench', database: { socket: db.socket, username: DB_USER, password: DB_PASSWORD }, snapshotHost: 'shop' };
  const backup = (name: string, repo: string, parallel: boolean): BackupAssignment => ({
    ...base, repository: { location: `local:${repo}`, password: PASSWORD, credentials: {} }, kind: 'BackupSession', name, invoker: 'bench', dumpArgs, filename: 'dumpfile.sql',
    ...(parallel ? { dumper: 'parallel' as const, parallel: PARALLEL } : {}),
  });

  const raws: Measurement[] = [];
  const stashes: Measurement[] = [];
  const mydumpers: Measurement[] = [];
  const mydumpersCompressed: Measurement[] = [];
  /** mariadbd's CPU while mydumper -t N reads: part of the floor below. */
  const mydumperServerCpu: number[] = [];
  const classic: SessionRun[] = [];
  const parallel: SessionRun[] = [];
  for (let i = 0; i < runs; i++) {
    log(`run ${i + 1} of ${runs}...`);
    raws.push(await measure(`${dump} > /dev/null`));
    await measure(`restic init -q -r ${dir.path}/restic-${i}`, env);
    stashes.push(await measure(`${dump} | restic -r ${dir.path}/restic-${i} --no-cache -q backup --stdin --stdin-filename dumpfile.sql`, env));
    const myd = await withServerCpu(db, () => measure(mydumper(`${dir.path}/mydumper`, false)));
    mydumpers.push(myd.value);
    mydumperServerCpu.push(myd.serverCpuSeconds);
    mydumpersCompressed.push(await measure(mydumper(`${dir.path}/mydumper-c`, true)));
    classic.push(await session(backup(`classic-${i}`, `${dir.path}/classic-${i}`, false)));
    parallel.push(await session(backup(`parallel-${i}`, `${dir.path}/parallel-${i}`, true)));
  }
  const mydumperBytes = Number((await readFile(`${dir.path}/mydumper.size`, 'utf8')).split('\t')[0]);
  const mydumperCompressedBytes = Number((await readFile(`${dir.path}/mydumper-c.size`, 'utf8')).split('\t')[0]);

  // Where the parallel backup's CPU goes: mariadbd serving the reads, the dumper alone (its own
  // process, into a file), the writer's stages over that file, agent start-up and the rest.
  log('CPU breakdown...');
  const dumpFile = join(dir.path, 'parallel.sql');
  const built = join(dir.path, 'app', 'dist', 'bench', 'parallel-dump-only.js');
  const alone = await withServerCpu(db, () => measure(`${process.execPath} ${built} ${db.socket} root '' ${PARALLEL} ${dumpFile} > ${dumpFile}.json`, AGENT_IMAGE_ENV));
  const aloneOut = JSON.parse(await readFile(`${dumpFile}.json`, 'utf8')) as { result: { snapshot: { lockHeldMs: number }; bytes: number; chunks: number }; peakRssKiB: number };
  const oneBackup = await withServerCpu(db, () => session(backup('parallel-cpu', `${dir.path}/parallel-cpu`, true)));
  const stages = await backupStagesCpu(dumpFile);
  await opts.remove();

  const raw = summarize(raws);
  const stash = summarize(stashes);
  const myd = summarize(mydumpers);
  const mydc = summarize(mydumpersCompressed);
  const ours = summarize(parallel.map((p) => p.m));
  const oursClassic = summarize(classic.map((p) => p.m));
  const agentRss = Math.max(...parallel.map((p) => p.agentPeakRssMiB));
  const line = (name: string, m: Measurement): string =>
    `${name.padEnd(50)} ${m.wallSeconds.toFixed(2).padStart(7)} s  ${(dumpBytes / 1048576 / m.wallSeconds).toFixed(0).padStart(5)} MiB/s  CPU ${m.cpuSeconds.toFixed(1).padStart(5)} s  peak RSS ${m.peakRssMiB.toFixed(0).padStart(5)} MiB\n`;
  process.stdout.write(`\nMariaDB with ~${mib} MiB of table data; mariadb-dump's dump ${(dumpBytes / 1048576).toFixed(0)} MiB, the parallel dump ${(aloneOut.result.bytes / 1048576).toFixed(0)} MiB, mydumper's files ${(mydumperBytes / 1048576).toFixed(0)} MiB (${(mydumperCompressedBytes / 1048576).toFixed(0)} MiB with -c); ${cpus().length} cores (shared); median wall and CPU time of ${runs} runs (CPU: the pipeline's processes, not mariadbd), highest peak RSS\n`);
  process.stdout.write(line('raw mariadb-dump > /dev/null', raw));
  process.stdout.write(line("Stash: mariadb-dump | restic backup", stash));
  process.stdout.write(line(`mydumper -t ${PARALLEL} -r 50000 (local files)`, myd));
  process.stdout.write(line(`mydumper -t ${PARALLEL} -r 50000 -c (compressed files)`, mydc));
  process.stdout.write(line('sidestash backup, mariadb-dump', oursClassic));
  process.stdout.write(line(`sidestash backup, parallel dumper (${PARALLEL} connections)`, ours));
  process.stdout.write(`\nbackup time  parallel / Stash pipeline:        ${ratio(ours.wallSeconds, stash.wallSeconds)}x   (target <= 0.50)\n`);
  process.stdout.write(`backup time  parallel / mydumper -t ${PARALLEL}:          ${ratio(ours.wallSeconds, myd.wallSeconds)}x   (target <= 1.50)\n`);
  process.stdout.write(`backup time  parallel / mydumper -t ${PARALLEL} -c:       ${ratio(ours.wallSeconds, mydc.wallSeconds)}x\n`);
  process.stdout.write(`backup time  parallel / sidestash mariadb-dump: ${ratio(ours.wallSeconds, oursClassic.wallSeconds)}x\n`);
  process.stdout.write(`agent peak RSS (its own process): parallel ${agentRss.toFixed(0)} MiB, mariadb-dump ${Math.max(...classic.map((p) => p.agentPeakRssMiB)).toFixed(0)} MiB   (target <= 128)\n`);
  process.stdout.write(`writes blocked for the snapshot: ${aloneOut.result.snapshot.lockHeldMs.toFixed(1)} ms (BACKUP STAGE BLOCK_COMMIT; an idle server)\n`);
  const staged = stages.stages;
  const rest = oneBackup.value.m.cpuSeconds - alone.value.cpuSeconds - staged.reduce((n, st) => n + st.cpuSeconds, 0);
  process.stdout.write(`\nwhere the parallel backup's CPU goes (agent ${oneBackup.value.m.cpuSeconds.toFixed(1)} CPU-s, mariadbd ${oneBackup.serverCpuSeconds.toFixed(1)} CPU-s; each stage alone on the same ${(stages.bytes / 1048576).toFixed(0)} MiB dump):\n`);
  process.stdout.write(formatStages([
    { name: 'mariadbd serving the reads (not the agent)', cpuSeconds: alone.serverCpuSeconds },
    { name: 'parallel dumper alone (its process, start-up included)', cpuSeconds: alone.value.cpuSeconds },
    ...staged,
    { name: 'the rest (key KDF, streams, packing, GC)', cpuSeconds: rest },
  ], stages.bytes));
  // The floor: mydumper's dump (its CPU and mariadbd's) plus the writer stages every restic-format
  // backup must add (chunking, SHA-256, zstd, encryption; each measured alone above), spread
  // perfectly over every core with nothing else: no backup of this repository format can finish
  // sooner on this machine, whatever its dumper.
  const essential = staged.filter((st) => /^(chunking|hashing|compression|encryption)/.test(st.name)).reduce((n, st) => n + st.cpuSeconds, 0);
  const mydServer = [...mydumperServerCpu].sort((a, b) => a - b)[Math.floor(mydumperServerCpu.length / 2)] ?? 0;
  const floorSeconds = Math.max(myd.wallSeconds, (myd.cpuSeconds + mydServer + essential) / cpus().length);
  process.stdout.write(`\nfloor: mydumper -t ${PARALLEL} (${myd.cpuSeconds.toFixed(1)} CPU-s, mariadbd ${mydServer.toFixed(1)} CPU-s) + chunking, hashing, zstd and encryption alone (${essential.toFixed(1)} CPU-s) over ${cpus().length} cores: ${floorSeconds.toFixed(2)} s = ${ratio(floorSeconds, myd.wallSeconds)}x mydumper -t ${PARALLEL}; the parallel backup is ${ratio(ours.wallSeconds, floorSeconds)}x this floor\n`);
  const summary = {
    dbMiB: mib,
    floorVsMydumper: Number(ratio(floorSeconds, myd.wallSeconds)),
    parallelVsFloor: Number(ratio(ours.wallSeconds, floorSeconds)),
    parallelVsStash: Number(ratio(ours.wallSeconds, stash.wallSeconds)),
    parallelVsMydumper: Number(ratio(ours.wallSeconds, myd.wallSeconds)),
    parallelVsMydumperCompressed: Number(ratio(ours.wallSeconds, mydc.wallSeconds)),
    parallelVsMariadbDumpBackup: Number(ratio(ours.wallSeconds, oursClassic.wallSeconds)),
    parallelVsRawDump: Number(ratio(ours.wallSeconds, raw.wallSeconds)),
    agentPeakRssMiB: Math.round(agentRss),
    dumperAlonePeakRssMiB: Math.round(aloneOut.peakRssKiB / 1024),
    lockHeldMs: Number(aloneOut.result.snapshot.lockHeldMs.toFixed(1)),
  };
  process.stdout.write(`\n${JSON.stringify(summary)}\n`);
} finally {
  await db.stop();
  await dir.cleanup();
}
