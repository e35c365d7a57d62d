// `get KIND [NAME]` with kubectl's options: -o wide|yaml|json|name|jsonpath=TEMPLATE, -l
// SELECTOR (filtered by the controller, ?labelSelector=), -A (all namespaces), -w (watch: the
// list again every 2 s, printing the rows that changed).
import { stringify } from 'yaml';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import { parseLabelSelector } from '../common/label-selector.ts';
import type { ApiClientOptions } from './api-client.ts';
import { api } from './api-client.ts';
import { table } from './format.ts';
import { agentTable, resourceTable } from './get-tables.ts';
import type { ListedAgent, ListedItem, TableData } from './get-tables.ts';
import { jsonPath, parseJsonPath } from './jsonpath.ts';
import { listAll } from './list-pages.ts';

export type OutputFormat = { kind: 'table' | 'wide' | 'json' | 'yaml' | 'name' } | { kind: 'jsonpath'; template: string };

const FORMATS = ['wide', 'json', 'yaml', 'name', 'jsonpath=TEMPLATE'];

/** -o's value, checked: an unknown format is a usage error (exit 2). */
export function parseOutputFormat(o: string | undefined): OutputFormat {
  if (o === undefined || o === '') return { kind: 'table' };
  if (o === 'wide' || o === 'json' || o === 'yaml' || o === 'name') return { kind: o };
  const m = /^jsonpath=(.*)$/s.exec(o);
  if (m) {
    parseJsonPath(m[1]!);
    return { kind: 'jsonpath', template: m[1]! };
  }
  throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `unknown output format -o ${JSON.stringify(o)}; use one of ${FORMATS.join(', ')}`);
}

export interface GetOptions {
  plural: string;
  name?: string | undefined;
  namespace: string;
  allNamespaces: boolean;
  selector?: string | undefined;
  output: OutputFormat;
}

type Doc = ListedItem | ListedAgent;

/** Fetches what `get` shows: one item, or the list. */
async function fetchItems(o: ApiClientOptions, g: GetOptions): Promise<Doc[]> {
  if (g.plural === 'agents') {
    if (g.selector) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'agents carry no labels: -l does not apply to them');
    const { items } = await api<{ items: ListedAgent[] }>(o, 'GET', '/api/v1/agents');
    return items.filter((a) => (g.allNamespaces || a.name.startsWith(`${g.namespace}/`)) && (!g.name || a.name.slice(a.name.indexOf('/') + 1) === g.name));
  }
  if (g.name) return [await api<ListedItem>(o, 'GET', `/api/v1/${g.plural}/${encodeURIComponent(g.name)}?namespace=${encodeURIComponent(g.namespace)}`)];
  const q = new URLSearchParams();
  if (!g.allNamespaces) q.set('namespace', g.namespace);
  if (g.selector) q.set('labelSelector', g.selector);
  const qs = q.toString();
  return listAll<ListedItem>(o, `/api/v1/${g.plural}${qs ? `?${qs}` : ''}`);
}

function tableOf(g: GetOptions, items: Doc[], nowMs: number): TableData {
  const o = { wide: g.output.kind === 'wide', allNamespaces: g.allNamespaces, nowMs };
  return g.plural === 'agents' ? agentTable(items as ListedAgent[], o) : resourceTable(g.plural, items as ListedItem[], o);
}

function nameOf(g: GetOptions, d: Doc): string {
  return g.plural === 'agents' ? `agent/${(d as ListedAgent).name}` : `${g.plural.replace(/ies$/, 'y').replace(/s$/, '')}/${(d as ListedItem).metadata.name}`;
}

/** What `get` prints for items (one item when NAME was given). */
export function renderGet(g: GetOptions, items: Doc[], nowMs: number): string {
  const doc = g.name ? items[0] : { apiVersion: 'v1', kind: 'List', items };
  switch (g.output.kind) {
    case 'json':
      return JSON.stringify(doc, null, 2);
    case 'yaml':
      return stringify(doc).trimEnd();
    case 'name':
      return items.map((d) => nameOf(g, d)).join('\n');
    case 'jsonpath':
      return jsonPath(g.output.template, doc);
    default: {
      if (items.length === 0) return '';
      const t = tableOf(g, items, nowMs);
      return table(t.headers, t.rows);
    }
  }
}

export async function getCommand(o: ApiClientOptions, g: GetOptions): Promise<string> {
  if (g.selector) parseLabelSelector(g.selector);
  const items = await fetchItems(o, g);
  if (items.length === 0 && (g.output.kind === 'table' || g.output.kind === 'wide')) {
    process.stderr.write(`No resources found${g.allNamespaces ? '' : ` in ${g.namespace} namespace`}.\n`);
  }
  return renderGet(g, items, Date.now());
}

export const WATCH_INTERVAL_MS = 2000;

/**
 * `get -w`: prints the table (or the documents), then, every 2 s, each row (document) that
 * changed, until `signal` aborts. Rows keep the column widths of the first table.
 */
export async function watchCommand(o: ApiClientOptions, g: GetOptions, write: (s: string) => void, signal: AbortSignal): Promise<void> {
  if (g.selector) parseLabelSelector(g.selector);
  const seen = new Map<string, string>();
  let widths: number[] | undefined;
  const keyOf = (d: Doc): string => ('metadata' in d ? `${d.metadata.namespace ?? ''}/${d.metadata.name}` : d.name);
  for (;;) {
    const items = await fetchItems(o, g);
    const nowMs = Date.now();
    const changed: Doc[] = [];
    for (const d of items) {
      // Rows show relative times: compare documents, not rows, so that a row is not printed again only because time passed.
      const fingerprint = JSON.stringify(d);
      if (seen.get(keyOf(d)) !== fingerprint) changed.push(d);
      seen.set(keyOf(d), fingerprint);
    }
    if (changed.length > 0) {
      if (g.output.kind === 'table' || g.output.kind === 'wide') {
        const t = tableOf({ ...g, name: undefined }, changed, nowMs);
        if (!widths) {
          const text = table(t.headers, t.rows);
          widths = t.headers.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
          write(`${text}\n`);
        } else {
          for (const r of t.rows) write(`${table(t.headers.map((_, i) => ''.padEnd(widths![i] ?? 0)), [r]).split('\n')[1]}\n`);
        }
      } else {
        for (const d of changed) write(`${renderGet({ ...g, name: 'x' }, [d], nowMs)}\n`);
      }
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, WATCH_INTERVAL_MS);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
    if (signal.aborted) return;
  }
}
