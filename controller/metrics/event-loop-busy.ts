// How busy the controller's event loop is: the seconds it spent running (not waiting for I/O),
// from performance.eventLoopUtilization(). rate() of it is the event-loop utilization (0..1): the
// share of the time the one thread that serves every agent was busy, which says how close the
// controller is to its limit better than latency (which also depends on the network and clients).
import { performance } from 'node:perf_hooks';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';

export const EVENT_LOOP_BUSY_METRIC = 'sidestash_controller_eventloop_busy_seconds_total';

export function registerEventLoopBusy(registry: Registry): void {
  const elu = (performance as { eventLoopUtilization?: () => { active: number } }).eventLoopUtilization;
  // Deno 2's node:perf_hooks answers always 0: the metric is absent there rather than a false 0.
  if (typeof elu !== 'function' || 'Deno' in globalThis) return;
  let countedMs = elu.call(performance).active;
  new Counter({
    name: EVENT_LOOP_BUSY_METRIC,
    help: 'Seconds the event loop spent busy (rate() is the event-loop utilization)',
    registers: [registry],
    collect() {
      const now = elu.call(performance).active;
      if (now > countedMs) this.inc((now - countedMs) / 1000);
      countedMs = now;
    },
  });
}
