// What the dump index costs a backup: DumpIndexTap (the statement splitter and the sectioning of
// every statement) over a dump-like stream in 64 KiB pieces, as pipe reads arrive, on one core;
// includes the stream plumbing (a pass-through Transform); against the chunker alone (the cheapest stage every backup already pays) for scale. The stream
// is mariadb-dump 10.11's shape (one row per line, ~1 MiB INSERTs, tables of mixed sizes) or the
// file SIDESTASH_BENCH_INPUT names. Prints a final one-line JSON summary.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DumpIndexTap } from '../agent/dump-index-tap.ts';
import { Chunker } from '../common/repository/chunker.ts';

const MiB = 1024 * 1024;

function dumpLike(bytes: number): Buffer {
  const parts: string[] = ["/*!40101 SET NAMES utf8mb4 */;\n/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\nCREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop`;\n\nUSE `shop`;\n"];
  let size = 0;
  for (let t = 0, id = 1; size < bytes; t++) {
    parts.push(`DROP TABLE IF EXISTS \`t${t}\`;\nCREATE TABLE \`t${t}\` (id int, v text);\nLOCK TABLES \`t${t}\` WRITE;\n`);
    const statements = 1 + (t % 7) * 3;
    for (let s = 0; s < statements && size < bytes; s++) {
      const rows: string[] = [];
      for (let n = 0; n < 900; n++, id++) rows.push(`(${id},'customer ${id % 9973} bought item ${id % 613}; it\\'s ${createHash('sha512').update(`${id}`).digest('hex')}${createHash('sha512').update(`${id + 1}`).digest('hex')}')`);
      const line = `INSERT INTO \`t${t}\` VALUES\n${rows.join(',\n')};\n`;
      parts.push(line);
      size += line.length;
    }
    parts.push('UNLOCK TABLES;\n');
  }
  return Buffer.from(parts.join(''), 'latin1');
}

const input = process.env.SIDESTASH_BENCH_INPUT;
const dump = input ? await readFile(input) : dumpLike(Number(process.env.SIDESTASH_BENCH_MIB ?? 200) * MiB);

function cpuSeconds(f: () => void): number {
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const start = process.cpuUsage();
    f();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1e6);
  }
  return best;
}

let indexBytes = 0;
let index = Infinity;
for (let r = 0; r < 3; r++) {
  const tap = new DumpIndexTap();
  const pieces = function* () {
    for (let i = 0; i < dump.length; i += 64 * 1024) yield dump.subarray(i, i + 64 * 1024);
  };
  const start = process.cpuUsage();
  await pipeline(Readable.from(pieces()), tap, new Writable({ write: (_c, _e, cb) => cb() }));
  const used = process.cpuUsage(start);
  index = Math.min(index, (used.user + used.system) / 1e6);
  indexBytes = tap.extraFiles('dumpfile.sql', (reason) => {
    throw new Error(reason);
  })[0]!.content.length;
}
const chunker = cpuSeconds(() => {
  const c = new Chunker(0x3da3358b4dc173n);
  for (let i = 0; i < dump.length; i += 64 * 1024) for (const p of c.push(dump.subarray(i, i + 64 * 1024))) c.release(p);
  c.finish();
});
const mib = dump.length / MiB;
process.stdout.write(`${mib.toFixed(0)} MiB ${input ? `from ${input}` : 'of generated dump'}; index file ${indexBytes} bytes\n`);
process.stdout.write(`dump index: ${(mib / index).toFixed(0)} MiB/s (${index.toFixed(2)} s CPU); chunker: ${(mib / chunker).toFixed(0)} MiB/s (${chunker.toFixed(2)} s)\n`);
process.stdout.write(`${JSON.stringify({ dumpMiB: Math.round(mib), indexCpuSeconds: +index.toFixed(3), indexMiBps: Math.round(mib / index), chunkerCpuSeconds: +chunker.toFixed(3), indexVsChunker: +(index / chunker).toFixed(2) })}\n`);
