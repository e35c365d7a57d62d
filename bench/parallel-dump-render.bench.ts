// Who renders the parallel dump's values: the server (QUOTE()/HEX() in one CONCAT a row, the
// dumper only copies; render: 'server') or the agent (mysql2's raw bytes escaped in JavaScript;
// render: 'client', the default). Both dump the benchmark's events table (~1 KiB rows: text,
// numbers, hex; SIDESTASH_BENCH_DB_MIB, 128 MiB by default) to /dev/null over 2 connections,
// SIDESTASH_BENCH_RUNS times each, interleaved; prints the median wall time, the dumper's CPU
// (this process) and mariadbd's CPU (from /proc) per rendering.
import { createWriteStream } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { dumpConnectionFactory } from '../agent/parallel-dump/dump-connection.ts';
import { parallelDump } from '../agent/parallel-dump/parallel-dumper.ts';
import type { RenderMode } from '../agent/parallel-dump/row-render.ts';
import { startMariaDB } from '../test/helpers/mariadb.ts';
import type { MariaDB } from '../test/helpers/mariadb.ts';
import { generateEvents } from './bench-databases.ts';

const mib = Number(process.env.SIDESTASH_BENCH_DB_MIB ?? 128);
const runs = Math.max(1, Number(process.env.SIDESTASH_BENCH_RUNS ?? 3));

async function serverCpuSeconds(db: MariaDB): Promise<number> {
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmd.includes(`--datadir=${db.dir}`)) continue;
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }
  throw new Error('mariadbd not found in /proc');
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;
const db = await startMariaDB({ bufferPoolBytes: 1024 * 1024 * 1024 });
try {
  await db.sql('CREATE DATABASE shop');
  await generateEvents(db, 'shop', mib);
  const results: Record<RenderMode, { wall: number[]; cpu: number[]; server: number[]; bytes: number }> = { client: { wall: [], cpu: [], server: [], bytes: 0 }, server: { wall: [], cpu: [], server: [], bytes: 0 } };
  for (let i = 0; i < runs; i++) {
    for (const render of ['client', 'server'] as const) {
      const cpu0 = process.cpuUsage();
      const server0 = await serverCpuSeconds(db);
      const t0 = performance.now();
      const d = parallelDump({ connect: dumpConnectionFactory({ socket: db.socket, username: 'root', password: '' }), databases: ['shop'], parallel: 2, render });
      await pipeline(d.stream, createWriteStream('/dev/null'));
      const r = await d.result;
      const cpu = process.cpuUsage(cpu0);
      results[render].wall.push((performance.now() - t0) / 1000);
      results[render].cpu.push((cpu.user + cpu.system) / 1e6);
      results[render].server.push((await serverCpuSeconds(db)) - server0);
      results[render].bytes = r.bytes;
    }
  }
  process.stdout.write(`\nevents table, ~${mib} MiB of data; 2 connections; median of ${runs} runs\n`);
  for (const [render, m] of Object.entries(results)) {
    process.stdout.write(`${render.padEnd(7)} ${median(m.wall).toFixed(2)} s wall  dumper CPU ${median(m.cpu).toFixed(2)} s  mariadbd CPU ${median(m.server).toFixed(2)} s  ${(m.bytes / 1048576).toFixed(0)} MiB\n`);
  }
  process.stdout.write(`${JSON.stringify({ clientVsServerWall: Number((median(results.client.wall) / median(results.server.wall)).toFixed(2)) })}\n`);
} finally {
  await db.stop();
}
