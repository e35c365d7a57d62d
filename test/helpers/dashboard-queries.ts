// Every PromQL query of the shipped Grafana dashboard, with Grafana's template variables
// substituted, so that tests can evaluate them on a real Prometheus.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const DASHBOARD_FILE = join(import.meta.dirname, '..', '..', 'charts', 'sidestash', 'dashboards', 'sidestash.json');

export interface DashboardTarget {
  refId: string;
  expr: string;
  instant?: boolean;
  format?: string;
  legendFormat?: string;
  datasource?: { uid?: string };
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos?: object;
  datasource?: { uid?: string };
  targets?: DashboardTarget[];
  fieldConfig?: { defaults?: { unit?: string }; overrides?: { matcher: { id: string; options: string }; properties: { id: string; value: unknown }[] }[] };
  transformations?: { id: string; options: Record<string, any> }[];
  panels?: DashboardPanel[];
}

export interface DashboardVariable {
  name: string;
  type: string;
  query?: string | { query: string };
  allValue?: string;
  includeAll?: boolean;
}

export interface Dashboard {
  uid: string;
  title: string;
  time: { from: string; to: string };
  refresh?: string;
  templating: { list: DashboardVariable[] };
  panels: DashboardPanel[];
}

export interface DashboardQuery {
  panelId: number;
  panel: string;
  refId: string;
  /** The expression with template variables substituted. */
  expr: string;
  /** A table cell (instant query) rather than a time series (range query). */
  instant: boolean;
}

export async function loadDashboard(file = DASHBOARD_FILE): Promise<Dashboard> {
  return JSON.parse(await readFile(file, 'utf8')) as Dashboard;
}

/** Panels, rows' nested panels included. */
export function allPanels(dashboard: Dashboard): DashboardPanel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/**
 * The values a dashboard shows with every variable at "All" (its allValue, else ".*"), plus
 * Grafana's built-in interval variables; `vars` overrides.
 */
export function defaultVariables(dashboard: Dashboard, vars: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = { __interval: '15s', __rate_interval: '1m', __range: '1h', __range_s: '3600' };
  for (const v of dashboard.templating.list) if (v.type !== 'datasource') out[v.name] = v.allValue ?? '.*';
  return { ...out, ...vars };
}

/**
 * Grafana's variable syntaxes: $name, ${name}, ${name:format} and [[name]]. Unknown names throw,
 * except numbers ($1 in label_replace, which Grafana leaves alone as no variable is so named).
 */
export function substitute(expr: string, vars: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (m, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c)!;
    if (/^\d+$/.test(name)) return m;
    const value = vars[name];
    if (value === undefined) throw new Error(`dashboard uses an unknown variable $${name} in ${expr}`);
    return value;
  });
}

/** Every panel target's PromQL, variables substituted. */
export function dashboardQueries(dashboard: Dashboard, vars: Record<string, string> = {}): DashboardQuery[] {
  const values = defaultVariables(dashboard, vars);
  return allPanels(dashboard).flatMap((p) => (p.targets ?? []).map((t) => ({ panelId: p.id, panel: p.title, refId: t.refId, expr: substitute(t.expr, values), instant: t.instant === true })));
}

/**
 * The variables' label_values(selector, label) queries as PromQL (`group by (label) (selector)`),
 * which lists the same label values.
 */
export function variableQueries(dashboard: Dashboard, vars: Record<string, string> = {}): { name: string; label: string; expr: string }[] {
  const values = defaultVariables(dashboard, vars);
  return dashboard.templating.list.filter((v) => v.type === 'query').map((v) => {
    const q = typeof v.query === 'string' ? v.query : v.query!.query;
    const m = /^label_values\((.+),\s*(\w+)\)$/.exec(q.trim());
    if (!m) throw new Error(`variable ${v.name}: not a label_values(selector, label) query: ${q}`);
    return { name: v.name, label: m[2]!, expr: `group by (${m[2]}) (${substitute(m[1]!, values)})` };
  });
}
