// Where a backup's CPU goes: each stage of the writer alone, on one core, over a dump-like
// stream (SQL INSERT rows of text and hex, like bench/mariadb-backup.bench.ts generates; or
// the file SIDESTASH_BENCH_INPUT names, e.g. a real mariadb-dump output). Prints each stage's
// throughput and its CPU seconds per GiB of dump, which add up to the agent's own work;
// the chunker also against the previous one (test/helpers/chunker-reference.ts: JavaScript,
// one lane) and Poly1305 against @noble/ciphers, the implementations they replaced; then a one-line JSON
// summary of the CPU seconds per GiB.
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Poly1305 } from '@noble/ciphers/_poly1305.js';
import { Chunker } from '../common/repository/chunker.ts';
import { ReferenceChunker } from '../test/helpers/chunker-reference.ts';
import { compressSync } from '../common/repository/compression.ts';
import { poly1305 } from '../common/repository/poly1305.ts';

const MiB = 1024 * 1024;
const ROUNDS = 3;

/** ~`bytes` of mariadb-dump-like output: extended INSERTs of ~1 KiB rows. */
function dumpLike(bytes: number): Buffer {
  const parts: string[] = [];
  let size = 0;
  for (let id = 1; size < bytes; ) {
    const rows: string[] = [];
    for (let n = 0; n < 1000; n++, id++) {
      const text = `customer ${id % 9973} bought item ${id % 613}; `.repeat(12);
      const hex = createHash('sha512').update(`${id}`).digest('hex') + createHash('sha512').update(`${id + 1}`).digest('hex');
      rows.push(`(${id},'2026-01-01 00:00:00','order',${(id * 7919) % 1000000 / 100},'${text}${hex}','${createHash('sha256').update(`t${id}`).digest('hex')}')`);
    }
    const line = `INSERT INTO \`events\` VALUES ${rows.join(',')};\n`;
    parts.push(line);
    size += line.length;
  }
  return Buffer.from(parts.join(''), 'latin1').subarray(0, bytes);
}

/** Best of ROUNDS: CPU seconds of the calling thread's process for `f`. */
function cpuSeconds(f: () => void): number {
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.cpuUsage();
    f();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1e6);
  }
  return best;
}

const input = process.env.SIDESTASH_BENCH_INPUT;
const dump = input ? await readFile(input) : dumpLike(Number(process.env.SIDESTASH_BENCH_MIB ?? 256) * MiB);
const GiB = dump.length / (1024 * MiB);
/** Feeds the dump in 64 KiB pieces, as pipe reads arrive; `take` sees each chunk before it is released. */
function chunk(take: (chunk: Buffer) => void, previous = false): void {
  const c = previous ? new ReferenceChunker(0x3da3358b4dc173n) : new Chunker(0x3da3358b4dc173n); // restic's test polynomial
  for (let i = 0; i < dump.length; i += 64 * 1024) {
    for (const piece of c.push(dump.subarray(i, i + 64 * 1024))) {
      take(piece);
      c.release(piece);
    }
  }
  const last = c.finish();
  if (last) take(last);
}
const chunking = cpuSeconds(() => chunk(() => {}));
const chunkingBefore = cpuSeconds(() => chunk(() => {}, true));
const chunks: Buffer[] = [];
chunk((c) => chunks.push(Buffer.from(c)));
let compressed: Buffer[] = [];
const stages: [name: string, bytes: number, seconds: number][] = [
  ['chunker (restic Rabin)', dump.length, chunking],
  ['SHA-256 (blob ids)', dump.length, cpuSeconds(() => chunks.forEach((c) => createHash('sha256').update(c).digest()))],
  ['zstd level 1', dump.length, cpuSeconds(() => (compressed = chunks.map((c) => compressSync(c))))],
];
const compressedBytes = compressed.reduce((n, c) => n + c.length, 0);
const key = randomBytes(32);
stages.push(
  ['AES-256-CTR (compressed)', compressedBytes, cpuSeconds(() => compressed.forEach((c) => createCipheriv('aes-256-ctr', key, randomBytes(16)).update(c)))],
  ['Poly1305 (compressed)', compressedBytes, cpuSeconds(() => compressed.forEach((c) => poly1305(key, c)))],
);
const noble = cpuSeconds(() => compressed.forEach((c) => new Poly1305(key).update(c).digest()));

process.stdout.write(`\n${(dump.length / MiB).toFixed(0)} MiB ${input ? `from ${input}` : 'of generated dump'}: ${chunks.length} chunks, compressed to ${((100 * compressedBytes) / dump.length).toFixed(1)}%; best of ${ROUNDS}, one core\n`);
let total = 0;
for (const [name, bytes, seconds] of stages) {
  total += seconds / GiB;
  process.stdout.write(`${name.padEnd(26)} ${(bytes / MiB / seconds).toFixed(0).padStart(6)} MiB/s  ${(seconds / GiB).toFixed(2).padStart(6)} CPU-s per GiB of dump\n`);
}
process.stdout.write(`${'all stages'.padEnd(26)} ${(1024 / total).toFixed(0).padStart(6)} MiB/s  ${total.toFixed(2).padStart(6)} CPU-s per GiB of dump\n`);
process.stdout.write(`chunker before (JS, 1 lane) ${(dump.length / MiB / chunkingBefore).toFixed(0).padStart(4)} MiB/s  ${(chunkingBefore / GiB).toFixed(2).padStart(6)} CPU-s per GiB (WebAssembly lanes ${(chunkingBefore / chunking).toFixed(1)}x faster)\n`);
process.stdout.write(`Poly1305 @noble/ciphers    ${(compressedBytes / MiB / noble).toFixed(0).padStart(6)} MiB/s  (ours ${(noble / stages[4]![2]).toFixed(1)}x faster)\n`);
// CPU seconds per GiB of dump by stage, as one JSON line (e.g. {"chunkerCpuSecondsPerGiB":4.05,...}).
const jsonKey = (name: string): string => name.split(' ')[0]!.replace(/[^A-Za-z0-9]/g, '').toLowerCase();
process.stdout.write(`\n${JSON.stringify(Object.fromEntries([...stages.map(([name, , seconds]) => [`${jsonKey(name)}CpuSecondsPerGiB`, Number((seconds / GiB).toFixed(2))]), ['allStagesCpuSecondsPerGiB', Number(total.toFixed(2))], ['chunkerBeforeCpuSecondsPerGiB', Number((chunkingBefore / GiB).toFixed(2))]]))}\n`);
