// sidestash against the reference pipelines on a generated MariaDB database (1 GiB of table
// data by default; SIDESTASH_BENCH_DB_MIB to change), all in one run:
//   backup:  sidestash agent  vs  raw `mariadb-dump > /dev/null`  vs  Stash's `mariadb-dump | restic backup --stdin`,
//            and two floors with the dump's output buffered as the agent buffers it (stdbuf):
//            `| cat` (the pipe alone) and `| zstd -1` (C zstd alone, the least work any
//            compressed backup adds to the dump)
//   restore: sidestash agent  vs  `restic dump | mariadb`
//   the agent's peak RSS, and how much a second backup after changing ~1% of rows adds.
// Prints wall and CPU times, peak RSS, the ratios the targets are stated in, where the agent's
// backup CPU goes stage by stage (bench/backup-cpu.ts) and a one-line JSON summary of the ratios.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeClientOptionsFile } from '../agent/client-options-file.ts';
import { DUMP_STDOUT_BUFFER } from '../agent/stdbuf.ts';
import type { BackupAssignment, SessionResult } from '../common/protocol.ts';
import { startMariaDB } from '../test/helpers/mariadb.ts';
import { DB_PASSWORD, DB_USER, createShop } from '../test/helpers/shop-db.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { buildAgent, measureAgentStartup } from './agent-session.ts';
import { backupStagesCpu, formatStages } from './backup-cpu.ts';
import { generateEvents } from './bench-databases.ts';
import { measure, ratio, summarize } from './measure.ts';
import type { Measurement } from './measure.ts';

const mib = Number(process.env.SIDESTASH_BENCH_DB_MIB ?? 1024);
/** Timed pipelines run this many times each, interleaved (SIDESTASH_BENCH_RUNS): wall times vary by ~10% from run to run here. */
const runs = Math.max(1, Number(process.env.SIDESTASH_BENCH_RUNS ?? 3));
const PASSWORD = 'bench-repository-password';
const dir = await tempDir('sidestash-bench-');
// The agent as its image runs it: plain JavaScript built by tsc, not the TypeScript sources
// through type stripping.
const session = await buildAgent(dir.path);
const db = await startMariaDB({ bufferPoolBytes: 2 * 1024 * 1024 * 1024 });
const log = (s: string): void => void process.stderr.write(`${s}\n`);
try {
  await createShop(db, 1000);
  log(`generating ~${mib} MiB of table data (rows of ~1 KiB: text, numbers and random hex)...`);
  const rows = await generateEvents(db, 'shop', mib);
  const opts = await writeClientOptionsFile(dir.path, { socket: db.socket, username: DB_USER, password: DB_PASSWORD });
  const dumpArgs = ['--all-databases', '--single-transaction', '--routines', '--events', '--triggers'];
  const dump = `mariadb-dump --defaults-extra-file=${opts.path} ${dumpArgs.join(' ')}`;
  const buffered = `stdbuf -o ${DUMP_STDOUT_BUFFER} ${dump}`;

  await measure(`${dump} | wc -c > ${dir.path}/size`);
  const dumpBytes = Number((await readFile(join(dir.path, 'size'), 'utf8')).trim());
  const env = { RESTIC_PASSWORD: PASSWORD };
  const base = { namespace: 'bench', target: 'bench/shop', repositoryName: 'bench', database: { socket: db.socket, username: DB_USER, password: DB_PASSWORD }, snapshotHost: 'shop' };
  const access = (repo: string): BackupAssignment['repository'] => ({ location: `local:${repo}`, password: PASSWORD, credentials: {} });
  const backup = (name: string, repo: string): BackupAssignment => ({ ...base, repository: access(repo), kind: 'BackupSession', name, invoker: 'bench', dumpArgs, filename: 'dumpfile.sql' });

  // Each backup pipeline `runs` times, interleaved, each into a fresh repository.
  const raws: Measurement[] = [];
  const pipes: Measurement[] = [];
  const zstds: Measurement[] = [];
  const stashes: Measurement[] = [];
  const firsts: { m: Measurement; r: SessionResult }[] = [];
  const ourRepo = (i: number): string => join(dir.path, `sidestash-${i}`);
  const resticRepo = (i: number): string => join(dir.path, `restic-${i}`);
  for (let i = 0; i < runs; i++) {
    log(`backup run ${i + 1} of ${runs}...`);
    raws.push(await measure(`${dump} > /dev/null`));
    pipes.push(await measure(`${buffered} | cat > /dev/null`));
    zstds.push(await measure(`${buffered} | zstd -1 -T1 -q > /dev/null`));
    await measure(`restic init -q -r ${resticRepo(i)}`, env);
    stashes.push(await measure(`${dump} | restic -r ${resticRepo(i)} --no-cache -q backup --stdin --stdin-filename dumpfile.sql`, env));
    firsts.push(await session(backup(`first-${i}`, ourRepo(i))));
  }
  const last = runs - 1;
  const first = firsts[last]!;
  // 1% of the rows changed, as recent rows usually are: the newest 1%.
  await db.sql(`UPDATE shop.events SET amount = amount + 1, token = SHA2(CONCAT(id, 'changed'), 256) WHERE id > ${Math.floor(rows * 0.99)}`);
  const second = await session(backup('second', ourRepo(last)));
  // 1% of the rows changed, spread evenly: every chunk of the dump holds a changed row.
  await db.sql(`UPDATE shop.events SET amount = amount + 1, token = SHA2(CONCAT(id, 'again'), 256) WHERE id % 100 = 7`);
  const third = await session(backup('third', ourRepo(last)));

  const restores: Measurement[] = [];
  const resticRestores: Measurement[] = [];
  for (let i = 0; i < runs; i++) {
    log(`restore run ${i + 1} of ${runs}...`);
    await db.sql('DROP DATABASE shop');
    restores.push((await session({ ...base, repository: access(ourRepo(last)), kind: 'RestoreSession', name: `restore-${i}`, snapshot: 'latest' })).m);
    await db.sql('DROP DATABASE shop');
    resticRestores.push(await measure(`restic -r ${resticRepo(last)} --no-cache dump latest /dumpfile.sql | mariadb --defaults-extra-file=${opts.path}`, env));
  }
  const raw = summarize(raws);
  const pipe = summarize(pipes);
  const zstd = summarize(zstds);
  const stash = summarize(stashes);
  const ours = summarize(firsts.map((f) => f.m));
  const restore = summarize(restores);
  const resticRestore = summarize(resticRestores);
  // Where the backup's CPU goes: the dump once more into a file (mariadb-dump's own CPU), then
  // the writer's stages alone over that file (bench/backup-cpu.ts).
  log('backup CPU breakdown...');
  const dumpFile = join(dir.path, 'dump.sql');
  const dumpToFile = await measure(`${dump} > ${dumpFile}`);
  const stages = await backupStagesCpu(dumpFile);
  const startup = summarize([await measureAgentStartup(dir.path), await measureAgentStartup(dir.path), await measureAgentStartup(dir.path)]);
  await opts.remove();

  const line = (name: string, m: Measurement): string =>
    `${name.padEnd(42)} ${m.wallSeconds.toFixed(2).padStart(7)} s  ${(dumpBytes / 1048576 / m.wallSeconds).toFixed(0).padStart(5)} MiB/s  CPU ${m.cpuSeconds.toFixed(1).padStart(5)} s  peak RSS ${m.peakRssMiB.toFixed(0).padStart(5)} MiB\n`;
  process.stdout.write(`\nMariaDB with ~${mib} MiB of table data; dump of ${(dumpBytes / 1048576).toFixed(0)} MiB; ${(await import('node:os')).cpus().length} cores; median wall and CPU time of ${runs} runs (CPU: the pipeline's processes, not mariadbd), highest peak RSS\n`);
  process.stdout.write(line('raw mariadb-dump > /dev/null', raw));
  process.stdout.write(line('floor: stdbuf mariadb-dump | cat', pipe));
  process.stdout.write(line('floor: stdbuf mariadb-dump | zstd -1', zstd));
  process.stdout.write(line("Stash: mariadb-dump | restic backup", stash));
  process.stdout.write(line('sidestash backup (agent)', ours));
  process.stdout.write(line('sidestash 2nd backup (newest 1% changed)', second.m));
  process.stdout.write(line('sidestash 3rd backup (every 100th changed)', third.m));
  process.stdout.write(line('restic dump | mariadb', resticRestore));
  process.stdout.write(line('sidestash restore (agent)', restore));
  process.stdout.write(`\nbackup time  sidestash / raw dump:        ${ratio(ours.wallSeconds, raw.wallSeconds)}x   (target <= 1.10)\n`);
  process.stdout.write(`backup time  sidestash / Stash pipeline:  ${ratio(ours.wallSeconds, stash.wallSeconds)}x   (target <= 0.60)\n`);
  process.stdout.write(`backup time  sidestash / dump | zstd -1:  ${ratio(ours.wallSeconds, zstd.wallSeconds)}x   (target <= 1.15)\n`);
  process.stdout.write(`floors       dump | cat / raw dump:       ${ratio(pipe.wallSeconds, raw.wallSeconds)}x;  dump | zstd -1 / raw dump: ${ratio(zstd.wallSeconds, raw.wallSeconds)}x   (no compressed backup gets below the second here)\n`);
  process.stdout.write(`restore time sidestash / restic | mariadb: ${ratio(restore.wallSeconds, resticRestore.wallSeconds)}x\n`);
  process.stdout.write(`agent peak RSS: backup ${ours.peakRssMiB.toFixed(0)} MiB, restore ${restore.peakRssMiB.toFixed(0)} MiB   (target <= 128)\n`);
  const added = (name: string, r: SessionResult): string => `${name} stored ${(r.bytesStored! / 1048576).toFixed(1)} MiB for ${(r.bytesRead! / 1048576).toFixed(0)} MiB dumped (${((100 * r.bytesStored!) / first.r.bytesStored!).toFixed(1)}% of the first backup's ${(first.r.bytesStored! / 1048576).toFixed(0)} MiB)\n`;
  process.stdout.write(added('2nd backup (newest 1% of rows changed)', second.r));
  process.stdout.write(added('3rd backup (every 100th row changed)', third.r));

  // The agent's backup CPU (its process and mariadb-dump, median of the runs) by stage.
  // The dump index tap (agent/dump-index-tap.ts) is part of every backup: its lexer is a stage.
  const staged = stages.stages;
  const rest = ours.cpuSeconds - dumpToFile.cpuSeconds - startup.cpuSeconds - staged.reduce((n, st) => n + st.cpuSeconds, 0);
  process.stdout.write(`\nwhere the agent's backup CPU goes (${ours.cpuSeconds.toFixed(1)} CPU-s; each stage alone on the same ${(stages.bytes / 1048576).toFixed(0)} MiB dump, one core):\n`);
  process.stdout.write(formatStages([
    { name: 'mariadb-dump process (into a file)', cpuSeconds: dumpToFile.cpuSeconds },
    { name: 'agent start-up (Node.js, loading modules)', cpuSeconds: startup.cpuSeconds },
    ...staged,
    { name: 'the rest (key KDF, streams, packing, GC)', cpuSeconds: rest },
  ], stages.bytes));
  const summary = {
    backupVsRawDump: Number(ratio(ours.wallSeconds, raw.wallSeconds)),
    backupVsStash: Number(ratio(ours.wallSeconds, stash.wallSeconds)),
    backupVsZstdFloor: Number(ratio(ours.wallSeconds, zstd.wallSeconds)),
    restoreVsResticDump: Number(ratio(restore.wallSeconds, resticRestore.wallSeconds)),
    backupPeakRssMiB: Math.round(ours.peakRssMiB),
    restorePeakRssMiB: Math.round(restore.peakRssMiB),
    secondBackupStoredFraction: Number((second.r.bytesStored! / first.r.bytesStored!).toFixed(3)),
  };
  process.stdout.write(`\n${JSON.stringify(summary)}\n`);
} finally {
  await db.stop();
  await dir.cleanup();
}
