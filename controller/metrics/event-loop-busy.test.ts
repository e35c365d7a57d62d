// The event-loop busy counter: a synchronous stretch of work shows as busy seconds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { EVENT_LOOP_BUSY_METRIC, registerEventLoopBusy } from './event-loop-busy.ts';

const busySeconds = async (r: Registry): Promise<number> => Number(new RegExp(`^${EVENT_LOOP_BUSY_METRIC} (\\S+)`, 'm').exec(await r.metrics())?.[1] ?? NaN);

test('absent on Deno, whose eventLoopUtilization is a stub that answers 0', { skip: !('Deno' in globalThis) }, async () => {
  const r = new Registry();
  registerEventLoopBusy(r);
  assert.equal(Number.isNaN(await busySeconds(r)), true);
});

test('counts the time the event loop was busy, and only once', { skip: 'Deno' in globalThis }, async () => {
  const r = new Registry();
  registerEventLoopBusy(r);
  await busySeconds(r);
  await new Promise((resolve) => setTimeout(resolve, 10)); // a turn of the loop, so that the work below is a busy stretch of its own
  const before = await busySeconds(r);
  const start = performance.now();
  while (performance.now() - start < 200); // 200 ms of synchronous work
  await new Promise((resolve) => setTimeout(resolve, 10));
  const after = await busySeconds(r);
  assert.ok(after - before >= 0.19, `busy ${after - before} s after 200 ms of work`);
  assert.ok(after - before < 5, 'not the whole process lifetime again');
});
