// A real Prometheus Pushgateway (Debian's prometheus-pushgateway) on a free port, and a scraper.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerOnFreePort } from './server-process.ts';

export interface Pushgateway {
  url: string;
  /** Samples of a metric as [labels, value] pairs. */
  scrape(metric: string): Promise<{ labels: Record<string, string>; value: number }[]>;
  stop(): Promise<void>;
}

export async function startPushgateway(): Promise<Pushgateway> {
  const dir = await mkdtemp(join(tmpdir(), 'sidestash-pgw-'));
  const proc = await startServerOnFreePort('prometheus-pushgateway', (port) => [`--web.listen-address=127.0.0.1:${port}`, `--persistence.file=${join(dir, 'data')}`], async (port) => (await fetch(`http://127.0.0.1:${port}/-/ready`)).ok, 'prometheus-pushgateway');
  const url = `http://127.0.0.1:${proc.port}`;
  return {
    url,
    async scrape(metric) {
      const text = await (await fetch(`${url}/metrics`)).text();
      const out: { labels: Record<string, string>; value: number }[] = [];
      for (const line of text.split('\n')) {
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
        if (!m || m[1] !== metric) continue;
        const labels: Record<string, string> = {};
        for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
        out.push({ labels, value: Number(m[3]) });
      }
      return out;
    },
    async stop() {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
