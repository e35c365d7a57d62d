// What one agent connection costs the controller (issue 15, fleet scale): the RSS an idle TLS
// connection holds after its handshake and first request, and the CPU a handshake takes. One real
// controller (sqlite, HTTPS, its own certificate, as test/helpers/stack.ts starts it); N clients
// each open a connection and send GET /healthz on it (phase "new"), then send the same request
// again on the kept connections (phase "reused"): the difference per call is the handshake.
//
//   node bench/fleet/tls-cost.bench.ts            2,000 connections
//   SIDESTASH_TLS_CONNECTIONS=4000 node bench/fleet/tls-cost.bench.ts
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { startController } from '../../test/helpers/stack.ts';
import { tempDir } from '../../test/helpers/tmp.ts';
import { AGENT_IMAGE_ENV } from '../agent-session.ts';
import { cpuSeconds, memoryMiB } from './controller-stats.ts';

const N = Number(process.env.SIDESTASH_TLS_CONNECTIONS ?? 2000);
const BATCH = 50;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const tmp = await tempDir('sidestash-tls-cost-');
const controller = await startController(tmp.path, { env: { ...AGENT_IMAGE_ENV } });
const pid = controller.child.pid!;
const ca = readFileSync(controller.caFile!, 'utf8');
const port = Number(new URL(controller.url).port);

/** One GET /healthz on s, resolved with the response's first line when the response is in. */
function get(s: TLSSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer): void => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? 0);
      if (text.length - end - 4 < len) return;
      s.off('data', onData);
      if (!text.startsWith('HTTP/1.1 200')) reject(new Error(text.split('\r\n')[0]));
      else resolve();
    };
    s.on('data', onData);
    s.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
  });
}

async function openOne(): Promise<TLSSocket> {
  const s = connect({ port, host: '127.0.0.1', ca, servername: 'localhost' });
  s.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    s.once('secureConnect', resolve);
    s.once('error', reject);
  });
  await get(s);
  return s;
}

try {
  await sleep(2000);
  const base = { ...memoryMiB(pid), cpu: cpuSeconds(pid) };
  const sockets: TLSSocket[] = [];
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) sockets.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, N - i) }, openOne))));
  const newMs = performance.now() - t0;
  const afterNew = { ...memoryMiB(pid), cpu: cpuSeconds(pid) };
  await sleep(3000); // let the controller settle (GC) with N idle connections
  const idle = memoryMiB(pid);
  const t1 = performance.now();
  for (let i = 0; i < N; i += BATCH) await Promise.all(sockets.slice(i, i + BATCH).map(get));
  const reusedMs = performance.now() - t1;
  const afterReused = { ...memoryMiB(pid), cpu: cpuSeconds(pid) };
  const newCpuMs = ((afterNew.cpu - base.cpu) * 1000) / N;
  const reusedCpuMs = ((afterReused.cpu - afterNew.cpu) * 1000) / N;
  console.log(`controller ${controller.url}, ${N} connections (${BATCH} at a time), RSS before ${base.rssMiB.toFixed(0)} MiB`);
  console.log(`  new connection + request: ${newCpuMs.toFixed(2)} ms controller CPU each (${((newMs * BATCH) / N).toFixed(1)} ms wall per batch call)`);
  console.log(`  request on a kept connection: ${reusedCpuMs.toFixed(2)} ms controller CPU each (${((reusedMs * BATCH) / N).toFixed(1)} ms wall per batch call)`);
  console.log(`  so a TLS handshake costs the controller about ${(newCpuMs - reusedCpuMs).toFixed(2)} ms of CPU`);
  console.log(`  RSS with ${N} idle connections: ${idle.rssMiB.toFixed(0)} MiB, ${(((idle.rssMiB - base.rssMiB) * 1024) / N).toFixed(1)} KiB per connection (peak ${idle.peakRssMiB.toFixed(0)} MiB)`);
  console.log(JSON.stringify({ connections: N, handshakeCpuMs: +(newCpuMs - reusedCpuMs).toFixed(2), requestCpuMs: +reusedCpuMs.toFixed(2), idleKiBPerConnection: +(((idle.rssMiB - base.rssMiB) * 1024) / N).toFixed(1) }));
  for (const s of sockets) s.destroy();
} finally {
  await controller.stop();
  await tmp.cleanup();
}
