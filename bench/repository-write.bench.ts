// Our repository writer vs `restic backup --stdin` on the same generated stream (1 GiB by
// default; SIDESTASH_BENCH_MIB to change), each into a fresh repository, fed from the same
// file in the page cache. Prints wall time and peak RSS of both, their ratios and a one-line
// JSON summary of the ratios.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { blockStream, plan } from '../test/helpers/data.ts';
import { measure, ratio } from './measure.ts';

const mib = Number(process.env.SIDESTASH_BENCH_MIB ?? 1024);
const dir = await mkdtemp(join(process.env.SIDESTASH_BENCH_TMP ?? tmpdir(), 'sidestash-bench-'));
const input = join(dir, 'input.sql');
const env = { RESTIC_PASSWORD: 'bench-password' };
const cli = join(import.meta.dirname, '..', 'bin', 'sidestash.ts');
try {
  process.stderr.write(`generating ${mib} MiB test stream (1/4 random, 3/4 SQL text)...\n`);
  await pipeline(blockStream(plan('bench', mib * 1024 * 1024)), createWriteStream(input));
  await measure(`cat ${input} > /dev/null`);

  const ours = join(dir, 'ours');
  await measure(`${process.execPath} ${cli} repo init --repo ${ours} > /dev/null`, env);
  const sidestash = await measure(`${process.execPath} ${cli} repo backup --repo ${ours} --stdin-filename dumpfile.sql < ${input} > /dev/null`, env);

  const theirs = join(dir, 'restic');
  await measure(`restic init -q -r ${theirs} > /dev/null`, env);
  const restic = await measure(`restic -r ${theirs} --no-cache -q backup --stdin --stdin-filename dumpfile.sql < ${input} > /dev/null`, env);

  const rows = [
    ['sidestash repo backup', sidestash],
    ['restic backup --stdin', restic],
  ] as const;
  process.stdout.write(`\nwrite ${mib} MiB stream into a fresh repository\n`);
  for (const [name, m] of rows) {
    process.stdout.write(`${name.padEnd(24)} ${m.wallSeconds.toFixed(2).padStart(7)} s  ${(mib / m.wallSeconds).toFixed(0).padStart(5)} MiB/s  peak RSS ${m.peakRssMiB.toFixed(0).padStart(5)} MiB\n`);
  }
  process.stdout.write(`ratio sidestash/restic: wall time ${ratio(sidestash.wallSeconds, restic.wallSeconds)}x, peak RSS ${ratio(sidestash.peakRssMiB, restic.peakRssMiB)}x\n`);
  process.stdout.write(`\n${JSON.stringify({ writeVsRestic: Number(ratio(sidestash.wallSeconds, restic.wallSeconds)), writePeakRssVsRestic: Number(ratio(sidestash.peakRssMiB, restic.peakRssMiB)) })}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
