// What the controller's own /metrics says during the fleet run: its event-loop delay
// (prom-client's default metrics, reset at every scrape) and, per route, how many requests it
// served within 100 ms by its own clock (sidestash_controller_http_request_duration_seconds),
// which tells the controller's time from the time a call spent in the network or in the client.
import { request } from 'undici';
import type { Dispatcher } from 'undici';

export interface LoopDelay {
  p99Ms: number;
  maxMs: number;
}

/** The controller's event-loop busy seconds so far (controller/metrics/event-loop-busy.ts); NaN where absent. */
export function busySecondsOf(text: string): number {
  return Number(/^sidestash_controller_eventloop_busy_seconds_total (\S+)/m.exec(text)?.[1] ?? NaN);
}

export function loopDelayOf(text: string): LoopDelay {
  const v = (name: string): number => Number(new RegExp(`^sidestash_controller_nodejs_eventloop_lag_${name}_seconds (\\S+)`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return { p99Ms: v('p99'), maxMs: v('max') };
}

/** Per route: requests served, and the share the controller answered within 0.1 s. */
export function serverSideWithin100Ms(text: string): Record<string, { count: number; within100MsPercent: number }> {
  const out: Record<string, { count: number; within: number }> = {};
  const re = /^sidestash_controller_http_request_duration_seconds_bucket\{le="([^"]+)",method="([^"]+)",route="([^"]+)"\} (\S+)$/gm;
  for (const m of text.matchAll(re)) {
    const key = `${m[2]} ${m[3]}`;
    const o = (out[key] ??= { count: 0, within: 0 });
    if (m[1] === '0.1') o.within = Number(m[4]);
    if (m[1] === '+Inf') o.count = Number(m[4]);
  }
  return Object.fromEntries(Object.entries(out).map(([k, o]) => [k, { count: o.count, within100MsPercent: o.count === 0 ? 100 : (100 * o.within) / o.count }]));
}

/** The controller's /metrics text, over its TLS (trusting its CA). */
export async function scrapeMetrics(url: string, dispatcher: Dispatcher): Promise<string> {
  const res = await request(`${url}/metrics`, { dispatcher });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`);
  return text;
}
