// A real throwaway Prometheus (Debian's prometheus 2.42) on a free port: a generated
// configuration with the given scrape targets (the Pushgateway with honor_labels, the
// controller over HTTP or HTTPS), 1 s scrape and rule-evaluation intervals, optional rule
// files; and helpers for its HTTP API.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { startServerOnFreePort } from './server-process.ts';
import { tempDir } from './tmp.ts';

export interface ScrapeTarget {
  /** The job label of the target's series (honor_labels targets keep their own). */
  job: string;
  /** The metrics URL, e.g. http://127.0.0.1:9091/metrics or https://127.0.0.1:7480/metrics. */
  url: string;
  /** Keep the scraped job/instance labels (the Pushgateway). */
  honorLabels?: boolean;
  /** HTTPS: the CA that signed the target's certificate, and the name to check it for. */
  caFile?: string;
  serverName?: string;
  insecureSkipVerify?: boolean;
  bearerToken?: string;
}

export interface PrometheusOptions {
  targets: ScrapeTarget[];
  /** Rule files, copied into Prometheus's directory. */
  ruleFiles?: string[];
  /** Replaces every alerting rule's `for:` in the copies (e.g. '0s': alerts fire at their first evaluation). */
  forOverride?: string;
  scrapeIntervalS?: number;
  evaluationIntervalS?: number;
}

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface ActiveAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  activeAt?: string;
  value: string;
}

export interface TargetState {
  scrapePool: string;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  lastScrape: string;
  labels: Record<string, string>;
}

export interface Prometheus {
  url: string;
  /** An instant query (at `timeS`, Unix seconds, default now); throws on a PromQL error. Vector results only (scalars become one unlabelled sample). */
  query(expr: string, timeS?: number): Promise<Sample[]>;
  /** A range query; throws on a PromQL error. */
  queryRange(expr: string, startS: number, endS: number, stepS: number): Promise<{ metric: Record<string, string>; values: [number, string][] }[]>;
  /** /api/v1/alerts: pending and firing alerts. */
  alerts(): Promise<ActiveAlert[]>;
  /** /api/v1/targets: the active targets. */
  targets(): Promise<TargetState[]>;
  /**
   * Waits until every target is up and was scraped after `since` (default now), then until the
   * rules were evaluated after that scrape; throws at once when a target scraped after `since`
   * is down (with its error). Prometheus applies its targets only every 5 s after start, so the
   * first call takes about that long.
   */
  waitForScrape(since?: Date, timeoutMs?: number): Promise<void>;
  /** Polls `check` (every 200 ms) until it returns a value other than undefined. */
  waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

function scrapeConfig(t: ScrapeTarget, intervalS: number): Record<string, unknown> {
  const u = new URL(t.url);
  const tls: Record<string, unknown> = {};
  if (t.caFile) tls.ca_file = t.caFile;
  if (t.serverName) tls.server_name = t.serverName;
  if (t.insecureSkipVerify) tls.insecure_skip_verify = true;
  return {
    job_name: t.job,
    scrape_interval: `${intervalS}s`,
    scrape_timeout: `${intervalS}s`,
    honor_labels: t.honorLabels ?? false,
    scheme: u.protocol.replace(':', ''),
    metrics_path: u.pathname,
    ...(u.search ? { params: Object.fromEntries([...u.searchParams].map(([k, v]) => [k, [v]])) } : {}),
    ...(Object.keys(tls).length ? { tls_config: tls } : {}),
    ...(t.bearerToken ? { authorization: { type: 'Bearer', credentials: t.bearerToken } } : {}),
    static_configs: [{ targets: [u.host] }],
  };
}

async function api<T>(url: string, path: string, params?: Record<string, string>): Promise<T> {
  const res = await fetch(`${url}${path}`, params ? { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() } : {});
  const body = (await res.json()) as { status: string; data: T; error?: string; errorType?: string };
  if (body.status !== 'success') throw new Error(`Prometheus ${path} ${params?.query ?? ''}: ${body.errorType}: ${body.error}`);
  return body.data;
}

export async function startPrometheus(options: PrometheusOptions): Promise<Prometheus> {
  const dir = await tempDir('sidestash-prom-');
  const scrapeS = options.scrapeIntervalS ?? 1;
  const evalS = options.evaluationIntervalS ?? 1;
  const rules: string[] = [];
  await mkdir(join(dir.path, 'rules'));
  for (const [i, file] of (options.ruleFiles ?? []).entries()) {
    const to = join(dir.path, 'rules', `${i}-${basename(file)}`);
    if (options.forOverride === undefined) await copyFile(file, to);
    else {
      const doc = parse(await readFile(file, 'utf8')) as { groups: { rules: { alert?: string; for?: string }[] }[] };
      for (const r of doc.groups.flatMap((g) => g.rules)) if (r.alert) r.for = options.forOverride;
      await writeFile(to, stringify(doc));
    }
    rules.push(to);
  }
  const config = {
    global: { scrape_interval: `${scrapeS}s`, evaluation_interval: `${evalS}s` },
    rule_files: rules,
    scrape_configs: options.targets.map((t) => scrapeConfig(t, scrapeS)),
  };
  const configFile = join(dir.path, 'prometheus.yml');
  await writeFile(configFile, stringify(config));
  let proc: Awaited<ReturnType<typeof startServerOnFreePort>>;
  try {
    proc = await startServerOnFreePort('prometheus', (port) => [
      `--config.file=${configFile}`, `--storage.tsdb.path=${join(dir.path, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ], async (port) => (await fetch(`http://127.0.0.1:${port}/-/ready`)).ok, 'prometheus');
  } catch (err) {
    await dir.cleanup();
    throw err;
  }
  const url = `http://127.0.0.1:${proc.port}`;

  const waitFor = async <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await check();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`Prometheus: ${what} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const prom: Prometheus = {
    url,
    async query(expr, timeS) {
      const data = await api<{ resultType: string; result: unknown }>(url, '/api/v1/query', { query: expr, ...(timeS === undefined ? {} : { time: String(timeS) }) });
      if (data.resultType === 'scalar') return [{ metric: {}, value: Number((data.result as [number, string])[1]) }];
      if (data.resultType !== 'vector') throw new Error(`Prometheus ${expr}: a ${data.resultType}, not a vector`);
      return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    async queryRange(expr, startS, endS, stepS) {
      const data = await api<{ result: { metric: Record<string, string>; values: [number, string][] }[] }>(url, '/api/v1/query_range', { query: expr, start: String(startS), end: String(endS), step: String(stepS) });
      return data.result;
    },
    async alerts() {
      return (await api<{ alerts: ActiveAlert[] }>(url, '/api/v1/alerts')).alerts;
    },
    async targets() {
      return (await api<{ activeTargets: TargetState[] }>(url, '/api/v1/targets')).activeTargets;
    },
    async waitForScrape(since = new Date(), timeoutMs = 30_000) {
      let last: TargetState[] = [];
      await waitFor('every target scraped and up', async () => {
        last = await prom.targets();
        const down = last.filter((t) => t.health === 'down' && Date.parse(t.lastScrape) > since.getTime());
        if (down.length > 0) throw new Error(`Prometheus: targets down: ${down.map((t) => `${t.scrapeUrl} ${t.health} ${t.lastError}`).join('; ')}`);
        return last.length === options.targets.length && last.every((t) => t.health === 'up' && Date.parse(t.lastScrape) > since.getTime()) ? true : undefined;
      }, timeoutMs).catch((err: Error) => {
        if (err.message.includes('targets down')) throw err;
        throw new Error(`${err.message}: ${last.map((t) => `${t.scrapeUrl} ${t.health} ${t.lastError}`).join('; ')}`);
      });
      if (rules.length === 0) return;
      const scraped = new Date();
      await waitFor('rules evaluated after the scrape', async () => {
        const groups = (await api<{ groups: { lastEvaluation: string }[] }>(url, '/api/v1/rules')).groups;
        return groups.length > 0 && groups.every((g) => Date.parse(g.lastEvaluation) > scraped.getTime()) ? true : undefined;
      }, timeoutMs);
    },
    waitFor,
    async stop() {
      await proc.stop();
      await dir.cleanup();
    },
  };
  return prom;
}
