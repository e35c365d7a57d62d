// Where a backup's CPU goes, stage by stage, on one real dump file: each stage of the agent's
// writer run alone over it in the order the agent runs them (read, chunk, SHA-256, zstd,
// encryption, pack upload to a local repository directory), and the dump lexer the dump index
// taps the stream with (common/sql-dump/dump-statements.ts splitDump), each timed with
// process.cpuUsage (user + system, every thread of this process) around its own calls only.
// bench/mariadb-backup.bench.ts puts these beside the mariadb-dump process's CPU and the agent's
// measured total; the rest of the agent's total is what no stage isolates (stream handling,
// pack assembly, garbage collection, the pipe). Usage alone: node bench/backup-cpu.ts DUMP.sql
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { splitDump } from '../common/sql-dump/dump-statements.ts';
import { Chunker } from '../common/repository/chunker.ts';
import { compressSync } from '../common/repository/compression.ts';
import { encrypt, randomMasterKey } from '../common/repository/crypto.ts';
import { sha256Hex } from '../common/repository/ids.ts';
import { DEFAULT_PACK_SIZE_BYTES } from '../common/repository/blob-saver.ts';

export interface StageCpu {
  name: string;
  cpuSeconds: number;
}

/** Pipe reads arrive in pieces of this size (the agent's stdout buffer size order). */
const READ_BYTES = 256 * 1024;
/** restic's test polynomial: any irreducible one cuts alike for timing. */
const POLYNOMIAL = 0x3da3358b4dc173n;

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** CPU seconds of `f`; `add` accumulates. */
function timed<T>(add: (s: number) => void, f: () => T): T {
  const start = cpuNow();
  const r = f();
  add(cpuNow() - start);
  return r;
}

async function timedAsync<T>(add: (s: number) => void, f: () => Promise<T>): Promise<T> {
  const start = cpuNow();
  const r = await f();
  add(cpuNow() - start);
  return r;
}

/** The writer's stages over `dumpFile` (one pass, each stage timed alone), then the dump lexer. */
export async function backupStagesCpu(dumpFile: string): Promise<{ stages: StageCpu[]; bytes: number; chunks: number; packs: number }> {
  const cpu = { read: 0, chunk: 0, hash: 0, compress: 0, encrypt: 0, upload: 0 };
  const repoDir = await mkdtemp(join(process.env.SIDESTASH_TEST_TMP ?? tmpdir(), 'sidestash-bench-stages-'));
  const backend = new LocalBackend(repoDir);
  await backend.create();
  const key = randomMasterKey();
  const chunker = new Chunker(POLYNOMIAL);
  const fd = openSync(dumpFile, 'r');
  const piece = Buffer.allocUnsafe(READ_BYTES);
  let pack: Buffer[] = [];
  let packBytes = 0;
  let bytes = 0;
  let chunks = 0;
  let packs = 0;
  const upload = async (): Promise<void> => {
    if (packBytes === 0) return;
    const data = Buffer.concat(pack, packBytes);
    pack = [];
    packBytes = 0;
    packs++;
    await timedAsync((s) => (cpu.upload += s), () => backend.save({ type: 'data', name: sha256Hex(data) }, data));
  };
  const store = async (chunk: Buffer): Promise<void> => {
    chunks++;
    timed((s) => (cpu.hash += s), () => sha256Hex(chunk));
    const compressed = timed((s) => (cpu.compress += s), () => compressSync(chunk));
    const sealed = timed((s) => (cpu.encrypt += s), () => encrypt(key, compressed));
    pack.push(sealed);
    packBytes += sealed.length;
    if (packBytes >= DEFAULT_PACK_SIZE_BYTES) await upload();
  };
  try {
    for (;;) {
      const n = timed((s) => (cpu.read += s), () => readSync(fd, piece, 0, READ_BYTES, null));
      if (n === 0) break;
      bytes += n;
      const cut = timed((s) => (cpu.chunk += s), () => chunker.push(piece.subarray(0, n)));
      for (const c of cut) {
        await store(c);
        chunker.release(c);
      }
    }
    const last = timed((s) => (cpu.chunk += s), () => chunker.finish());
    if (last) await store(last);
    await upload();
  } finally {
    closeSync(fd);
    await rm(repoDir, { recursive: true, force: true });
  }
  // The lexer as the index taps the stream: a streamed pass through splitDump, less a streamed
  // pass that only reads (the same reads, so the difference is the lexer's own work).
  let start = cpuNow();
  for await (const _ of createReadStream(dumpFile, { highWaterMark: READ_BYTES }));
  const readOnly = cpuNow() - start;
  let statements = 0;
  start = cpuNow();
  for await (const _ of splitDump(createReadStream(dumpFile, { highWaterMark: READ_BYTES }))) statements++;
  const lexed = cpuNow() - start;
  return {
    bytes,
    chunks,
    packs,
    stages: [
      { name: 'read (pipe reads)', cpuSeconds: cpu.read },
      { name: 'chunking (restic Rabin)', cpuSeconds: cpu.chunk },
      { name: 'hashing (SHA-256 blob ids)', cpuSeconds: cpu.hash },
      { name: 'compression (zstd -1)', cpuSeconds: cpu.compress },
      { name: 'encryption (AES-CTR + Poly1305)', cpuSeconds: cpu.encrypt },
      { name: 'upload (packs, local backend)', cpuSeconds: cpu.upload },
      { name: `dump index tap: lexer (${statements} statements)`, cpuSeconds: Math.max(0, lexed - readOnly) },
    ],
  };
}

/** The stages as lines: CPU seconds, and per GiB of dump. */
export function formatStages(stages: readonly StageCpu[], bytes: number): string {
  const gib = bytes / 1024 ** 3;
  return stages.map((s) => `  ${s.name.padEnd(44)} ${s.cpuSeconds.toFixed(2).padStart(7)} CPU-s  ${(s.cpuSeconds / gib).toFixed(2).padStart(6)} CPU-s per GiB\n`).join('');
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node bench/backup-cpu.ts DUMP.sql');
  const r = await backupStagesCpu(file);
  process.stdout.write(`${(r.bytes / 1048576).toFixed(0)} MiB from ${file}: ${r.chunks} chunks, ${r.packs} packs; one core\n${formatStages(r.stages, r.bytes)}`);
}
