// Who renders the parallel dump's values: the server (QUOTE()/HEX() in one CONCAT a row, the
// dumper only copies; render: 'server') or the agent (mysql2's raw bytes escaped in JavaScript;
// render: 'client', the default). Both dump the benchmark's events table (~1 KiB rows: text,
// numbers, hex; SIDESTASH_BENCH_DB_MIB, 128 MiB by default) to /dev/null over 2 connections,
// SIDESTASH_BENCH_RUNS times each, interleaved; prints the median wall time, the dumper's CPU
// (this process) and mariadbd's CPU (from /proc) per rendering.
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { dumpConnectionFactory } from '../agent/parallel-dump/dump-connection.ts';
import { parallelDump } from '../agent/parallel-dump/parallel-dumper.ts';
import type { RenderMode } from '../agent/parallel-dump/row-render.ts';
import { startMariaDB } from '../test/helpers/mariadb.ts';
import { generateEvents } from './bench-databases.ts';
import { serverCpuSeconds } from './server-cpu.ts';

const mib = Number(process.env.SIDESTASH_BENCH_DB_MIB ?? 128);
const runs = Math.max(1, Number(process.env.SIDESTASH_BENCH_RUNS ?? 3));

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
