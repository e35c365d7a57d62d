// sidestash's restore (agent/restore-runner.ts, whatever it does: run as the agent's sessions
// run it) against the reference restores, on two generated databases (each ~1 GiB of table data
// by default; SIDESTASH_BENCH_DB_MIB to change), all in one run, each restore into the same
// server with the database dropped first:
//   events:      one dominant table (the backup benchmark's database);
//   many tables: 50 tables of mixed sizes, a third with secondary keys.
// Cases: `restic dump | mariadb` (the sandboxed client, as the product used it) of Stash's dump and
// of the agent's own snapshot (made with the product's default dump arguments), `myloader -t N`
// from `mydumper -t N -r 50000` output on local disk, sidestash at parallelism N
// (SIDESTASH_BENCH_PARALLEL, default the number of cores, at least 2: the runner's default),
// and a single-table restore of the ~1% table of the many-tables snapshot (skipped, with a note,
// while the runner has no granular restore). Every restore is checked table by table with
// CHECKSUM TABLE against the original. Prints times, ratios against the issue's targets and a
// one-line JSON summary.
import { availableParallelism } from 'node:os';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeClientOptionsFile } from '../agent/client-options-file.ts';
import type { BackupAssignment, RestoreAssignment } from '../common/protocol.ts';
import { DEFAULT_DUMP_ARGS } from '../controller/resources/types.ts';
import { startMariaDB } from '../test/helpers/mariadb.ts';
import { DB_PASSWORD, DB_USER, createShop } from '../test/helpers/shop-db.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { buildAgent } from './agent-session.ts';
import { ONE_PERCENT_TABLE, generateEvents, generateManyTables } from './bench-databases.ts';
import { measure, ratio, summarize } from './measure.ts';
import type { Measurement } from './measure.ts';
import { checkRestored, singleTableOutcome, tableChecksums } from './restore-check.ts';
import { serverCpuSeconds } from './server-cpu.ts';

const mib = Number(process.env.SIDESTASH_BENCH_DB_MIB ?? 1024);
const runs = Math.max(1, Number(process.env.SIDESTASH_BENCH_RUNS ?? 3));
const parallel = Math.max(1, Number(process.env.SIDESTASH_BENCH_PARALLEL ?? Math.max(2, availableParallelism())));
/** More mariadbd options, space-separated (e.g. `--innodb-log-file-size=1G`: the test server's redo log is 64 MiB). */
const serverArgs = (process.env.SIDESTASH_BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean);
/** mydumper's chunks, as the issue measured myloader. */
const MYDUMPER_ROWS = 50_000;
const PASSWORD = 'bench-repository-password';
/** The reference's client as the product ran it before the parallel loader: sandboxed (agent/restore-runner.ts's mariadb flags). */
const SANDBOXED_CLIENT_ARGS = ['--binary-mode', '--sandbox', '--local-infile=0'];
const TARGETS = { vsResticDump: 0.55, vsMyloader: 1.2, singleVsFull: 0.1, peakRssMiB: 128 };

const dir = await tempDir('sidestash-bench-restore-');
const session = await buildAgent(dir.path);
const db = await startMariaDB({ bufferPoolBytes: 2 * 1024 * 1024 * 1024, serverArgs });
const log = (s: string): void => void process.stderr.write(`${s}\n`);
const met = (value: number, target: number): string => (value <= target ? 'met' : 'NOT met');
try {
  await createShop(db, 1000);
  log(`generating ~${mib} MiB in shop.events (one dominant table)...`);
  await generateEvents(db, 'shop', mib);
  log(`generating ~${mib} MiB in 50 tables of database many...`);
  await db.sql('CREATE DATABASE many');
  await generateManyTables(db, 'many', mib);
  const opts = await writeClientOptionsFile(dir.path, { socket: db.socket, username: DB_USER, password: DB_PASSWORD });
  const env = { RESTIC_PASSWORD: PASSWORD };
  const asRoot = `-S ${db.socket} -u root`;

  interface Dataset {
    key: 'events' | 'many';
    database: string;
    label: string;
    dumpBytes: number;
    checksums: Map<string, string>;
    resticRepo: string;
    ourRepo: string;
    mydumperDir: string;
    cases: Record<'restic' | 'sameDump' | 'myloader' | 'ours', Measurement[]>;
    /** mariadbd's CPU seconds during each case's runs (the load alone, not the check after it). */
    serverCpu: Record<'restic' | 'sameDump' | 'myloader' | 'ours', number[]>;
    agentPeakRssMiB: number;
  }
  function base(d: Pick<Dataset, 'ourRepo' | 'database'>): Omit<RestoreAssignment, 'kind' | 'name' | 'snapshot'> {
    return { namespace: 'bench', target: `bench/${d.database}`, repositoryName: 'bench', snapshotHost: d.database, database: { socket: db.socket, username: DB_USER, password: DB_PASSWORD }, repository: { location: `local:${d.ourRepo}`, password: PASSWORD, credentials: {} } };
  }
  const datasets: Dataset[] = [];
  for (const [key, database, label] of [['events', 'shop', 'one dominant table (shop.events, ~1 KiB rows)'], ['many', 'many', '50 tables of mixed sizes, a third with secondary keys']] as const) {
    log(`backing up ${database}: mariadb-dump | restic backup --stdin, sidestash agent, mydumper -t ${parallel} -r ${MYDUMPER_ROWS}...`);
    // Stash's dump (the references) and the agent's: the product's default arguments for one database.
    const dumpArgs = ['--databases', database, '--single-transaction', '--routines', '--events', '--triggers'];
    const ourDumpArgs = ['--databases', database, ...DEFAULT_DUMP_ARGS.filter((x) => x !== '--all-databases')];
    const dump = `mariadb-dump --defaults-extra-file=${opts.path} ${dumpArgs.join(' ')}`;
    const d: Dataset = {
      key, database, label, dumpBytes: 0, checksums: await tableChecksums(db, database),
      resticRepo: join(dir.path, `restic-${key}`), ourRepo: join(dir.path, `sidestash-${key}`), mydumperDir: join(dir.path, `mydumper-${key}`),
      cases: { restic: [], sameDump: [], myloader: [], ours: [] }, serverCpu: { restic: [], sameDump: [], myloader: [], ours: [] }, agentPeakRssMiB: 0,
    };
    await measure(`${dump} | wc -c > ${dir.path}/size`);
    d.dumpBytes = Number((await readFile(join(dir.path, 'size'), 'utf8')).trim());
    await measure(`restic init -q -r ${d.resticRepo} && ${dump} | restic -r ${d.resticRepo} --no-cache -q backup --stdin --stdin-filename dumpfile.sql`, env);
    const backup: BackupAssignment = { ...base(d), kind: 'BackupSession', name: `backup-${key}`, invoker: 'bench', dumpArgs: ourDumpArgs, filename: 'dumpfile.sql' };
    await session(backup);
    await mkdir(d.mydumperDir);
    await measure(`mydumper ${asRoot} -B ${database} -t ${parallel} -r ${MYDUMPER_ROWS} -G -E -R --trx-consistency-only -o ${d.mydumperDir}`);
    datasets.push(d);
  }
  const many = datasets.find((d) => d.key === 'many')!;
  await measure(`mariadb-dump --defaults-extra-file=${opts.path} many ${ONE_PERCENT_TABLE} | wc -c > ${dir.path}/size`);
  const onePercentBytes = Number((await readFile(join(dir.path, 'size'), 'utf8')).trim());
  /**
   * Our restore at parallelism N (`parallel`: the RestoreSession's setting as issue 13 names it;
   * the runner's default, the number of cores and at least 2, is N too) and, for granular
   * restore, its selection (`tables`: 'database.table' names).
   */
  const restore = (d: Dataset, name: string, extra: Record<string, unknown> = {}): RestoreAssignment => ({ ...base(d), kind: 'RestoreSession', name, snapshot: 'latest', parallel, ...extra }) as RestoreAssignment;
  const fresh = (d: Dataset): Promise<string> => db.sql(`DROP DATABASE IF EXISTS \`${d.database}\``);
  const checked = async (d: Dataset, what: string, m: Measurement): Promise<Measurement> => {
    checkRestored(`${what} of ${d.database}`, d.checksums, await tableChecksums(db, d.database));
    return m;
  };

  const singles: Measurement[] = [];
  let singleNote: string | undefined;
  for (let i = 0; i < runs; i++) {
    for (const d of datasets) {
      log(`restore run ${i + 1} of ${runs}: ${d.database}...`);
      // Each case into a dropped database; the order turns with each run, so that no case
      // always follows another's background flushing.
      /** Runs `load`, noting mariadbd's CPU during it under `key`. */
      const server = async <T>(key: keyof Dataset['serverCpu'], load: () => Promise<T>): Promise<T> => {
        const before = await serverCpuSeconds(db);
        const out = await load();
        d.serverCpu[key].push((await serverCpuSeconds(db)) - before);
        return out;
      };
      const cases: (() => Promise<void>)[] = [
        async () => void d.cases.restic.push(await checked(d, 'restic dump | mariadb', await server('restic', () => measure(`restic -r ${d.resticRepo} --no-cache dump latest /dumpfile.sql | mariadb --defaults-extra-file=${opts.path} ${SANDBOXED_CLIENT_ARGS.join(' ')}`, env)))),
        async () => void d.cases.sameDump.push(await checked(d, 'restic dump of our snapshot | mariadb', await server('sameDump', () => measure(`restic -r ${d.ourRepo} --no-cache dump latest /dumpfile.sql | mariadb --defaults-extra-file=${opts.path} ${SANDBOXED_CLIENT_ARGS.join(' ')}`, env)))),
        async () => void d.cases.myloader.push(await checked(d, 'myloader', await server('myloader', () => measure(`myloader ${asRoot} -t ${parallel} -d ${d.mydumperDir}`)))),
        async () => {
          const ours = await server('ours', () => session(restore(d, `restore-${d.key}-${i}`)));
          d.cases.ours.push(await checked(d, 'sidestash restore', ours.m));
          d.agentPeakRssMiB = Math.max(d.agentPeakRssMiB, ours.agentPeakRssMiB);
        },
      ];
      for (let c = 0; c < cases.length; c++) {
        await fresh(d);
        await cases[(c + i) % cases.length]!();
      }
    }
    if (singleNote === undefined) {
      // One ~1% table of the many-tables snapshot, into a server without that database.
      await fresh(many);
      const one = await session(restore(many, `restore-single-${i}`, { tables: [`${many.database}.${ONE_PERCENT_TABLE}`] }), { mayFail: true });
      const outcome = singleTableOutcome(many.checksums, await tableChecksums(db, many.database), ONE_PERCENT_TABLE, one.r.phase === 'Succeeded' ? undefined : `${one.r.error?.code}: ${one.r.error?.message}`);
      if (outcome.kind === 'unsupported') singleNote = outcome.note;
      else {
        singles.push(one.m);
        many.agentPeakRssMiB = Math.max(many.agentPeakRssMiB, one.agentPeakRssMiB);
      }
    }
  }
  await opts.remove();

  const out = (s: string): void => void process.stdout.write(s);
  const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const line = (name: string, m: Measurement, bytes: number, rss = m.peakRssMiB, serverCpu?: readonly number[]): string =>
    `  ${name.padEnd(40)} ${m.wallSeconds.toFixed(2).padStart(7)} s  ${(bytes / 1048576 / m.wallSeconds).toFixed(0).padStart(5)} MiB/s  CPU ${m.cpuSeconds.toFixed(1).padStart(5)} s  peak RSS ${rss.toFixed(0).padStart(5)} MiB${serverCpu ? `  mariadbd CPU ${median(serverCpu).toFixed(1).padStart(5)} s (${(median(serverCpu) / m.wallSeconds).toFixed(2)} cores)` : ''}\n`;
  out(`\nMariaDB restores, ~${mib} MiB of table data per database; ${availableParallelism()} cores; parallelism N = ${parallel}; median wall and CPU time of ${runs} runs (CPU: the restoring processes; mariadbd CPU: the server's during the load, and how many cores that is on average), highest peak RSS (sidestash: the agent process alone); every restore checked with CHECKSUM TABLE\n`);
  const summary: Record<string, number | null> = {};
  for (const d of datasets) {
    const [restic, sameDump, myloader, ours] = [summarize(d.cases.restic), summarize(d.cases.sameDump), summarize(d.cases.myloader), summarize(d.cases.ours)];
    out(`\n${d.database}: ${d.label}; dump of ${(d.dumpBytes / 1048576).toFixed(0)} MiB\n`);
    out(line("restic dump | mariadb (Stash's dump)", restic, d.dumpBytes, restic.peakRssMiB, d.serverCpu.restic));
    out(line('restic dump | mariadb (our snapshot)', sameDump, d.dumpBytes, sameDump.peakRssMiB, d.serverCpu.sameDump));
    out(line(`myloader -t ${parallel} (mydumper -r ${MYDUMPER_ROWS} files)`, myloader, d.dumpBytes, myloader.peakRssMiB, d.serverCpu.myloader));
    out(line(`sidestash restore (agent, parallel ${parallel})`, ours, d.dumpBytes, d.agentPeakRssMiB, d.serverCpu.ours));
    const vsRestic = ours.wallSeconds / restic.wallSeconds;
    const vsMyloader = ours.wallSeconds / myloader.wallSeconds;
    out(`  sidestash / restic dump | mariadb: ${ratio(ours.wallSeconds, restic.wallSeconds)}x (target <= ${TARGETS.vsResticDump}: ${met(vsRestic, TARGETS.vsResticDump)});  sidestash / myloader: ${ratio(ours.wallSeconds, myloader.wallSeconds)}x (target <= ${TARGETS.vsMyloader}: ${met(vsMyloader, TARGETS.vsMyloader)});  myloader / restic dump | mariadb: ${ratio(myloader.wallSeconds, restic.wallSeconds)}x\n`);
    out(`  the same snapshot, one client: sidestash / restic dump (our snapshot) | mariadb: ${ratio(ours.wallSeconds, sameDump.wallSeconds)}x\n`);
    const prefix = d.key === 'events' ? 'restore' : 'manyTablesRestore';
    summary[`${prefix}VsResticDump`] = Number(vsRestic.toFixed(2));
    summary[`${prefix}VsMyloader`] = Number(vsMyloader.toFixed(2));
    summary[`${prefix}VsSameDumpClient`] = Number((ours.wallSeconds / sameDump.wallSeconds).toFixed(2));
  }
  const full = summarize(many.cases.ours);
  if (singles.length > 0) {
    const single = summarize(singles);
    out(`\nsingle-table restore of many.${ONE_PERCENT_TABLE} (${(onePercentBytes / 1048576).toFixed(1)} MiB, ${((100 * onePercentBytes) / many.dumpBytes).toFixed(1)}% of the dump) from the many-tables snapshot:\n`);
    out(line('sidestash single-table restore', single, onePercentBytes));
    out(`  single-table / full restore: ${ratio(single.wallSeconds, full.wallSeconds)}x (target <= ${TARGETS.singleVsFull}: ${met(single.wallSeconds / full.wallSeconds, TARGETS.singleVsFull)})\n`);
    summary.singleTableVsFull = Number(ratio(single.wallSeconds, full.wallSeconds));
  } else {
    out(`\nsingle-table restore: SKIPPED: ${singleNote}\n`);
    summary.singleTableVsFull = null;
  }
  const peak = Math.max(...datasets.map((d) => d.agentPeakRssMiB));
  out(`agent peak RSS during restores: ${peak.toFixed(0)} MiB (target <= ${TARGETS.peakRssMiB}: ${met(peak, TARGETS.peakRssMiB)})\n`);
  summary.restorePeakRssMiB = Math.round(peak);
  out(`\n${JSON.stringify(summary)}\n`);
} finally {
  await db.stop();
  await dir.cleanup();
}
