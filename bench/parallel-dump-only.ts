// The parallel dumper alone, in its own process: a dump of the server's databases written to a
// file (or /dev/null), so that the benchmark sees its CPU apart from the repository writer's.
// Each piece is written synchronously and given back (release), as the agent's writer gives its
// pieces back once copied: the dumper's memory and collections are the agent's.
// Usage: node bench/parallel-dump-only.js SOCKET USER PASSWORD PARALLEL OUT
// Prints the dumper's result (lock time, tables, chunks, rows, bytes) and this process's CPU and peak RSS.
import { closeSync, openSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { dumpConnectionFactory } from '../agent/parallel-dump/dump-connection.ts';
import { parallelDump } from '../agent/parallel-dump/parallel-dumper.ts';

const [socket, username, password, parallel, out] = process.argv.slice(2) as [string, string, string, string, string];
const d = parallelDump({ connect: dumpConnectionFactory({ socket, username, password }), parallel: Number(parallel) });
const fd = openSync(out, 'w');
try {
  await pipeline(d.stream, new Writable({
    write(chunk: Buffer, _enc, cb) {
      try {
        for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
        d.release(chunk);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  }));
} finally {
  closeSync(fd);
}
const result = await d.result;
const usage = process.resourceUsage();
process.stdout.write(`${JSON.stringify({ result, peakRssKiB: usage.maxRSS, cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6 })}\n`);
