// The CLI's lists follow the controller's pages (controller/api/list-pages.ts): `?limit=` pages
// of LIST_PAGE_SIZE, then `?continue=` until the controller gives no more, so that listing
// thousands of sessions never makes the controller answer them in one piece. A controller that
// does not page answers the whole list at once, without metadata.continue: the loop ends there.
// A controller's pages are checked (nextPage): a page that asks for another must have moved on in
// the list's order (namespace, then name), so that a buggy or hostile server that repeats pages,
// goes backwards or answers empty pages with ever new tokens fails the command instead of looping
// for ever or printing a list with items twice. A server whose pages do move on but never end
// is stopped by a cap on the whole list's items and pages (LIST_TOO_LONG), far above any
// controller's lists (sessions are pruned to each configuration's history limit).
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import { api } from './api-client.ts';
import type { AnswerBudget } from './api-client.ts';
import type { ApiClientOptions } from './api-client.ts';

export const LIST_PAGE_SIZE = 500;

export interface ListCaps {
  /** Items of the whole list. */
  maxItems: number;
  /** Bytes of the whole list's answers, read as they come: what bounds the CLI's memory (items may be of any size, one page may hold any number). */
  maxBytes: number;
  /** Pages asked for (a Kubernetes-mode controller may answer short pages under a label selector). */
  maxPages: number;
}

/** 1,000,000 items, 256 MiB of answers (about 1 GiB of the CLI's memory once parsed), 10,000 pages. */
export const LIST_CAPS: ListCaps = { maxItems: 1_000_000, maxBytes: 256 * 1024 * 1024, maxPages: 10_000 };

type Position = { namespace: string; name: string };
interface Page {
  items?: unknown;
  metadata?: { continue?: unknown };
}

const positionOf = (item: unknown): Position | undefined => {
  const m = (item as { metadata?: { namespace?: unknown; name?: unknown } } | null)?.metadata;
  return typeof m?.namespace === 'string' && typeof m.name === 'string' ? { namespace: m.namespace, name: m.name } : undefined;
};
const before = (a: Position, b: Position): boolean => a.namespace < b.namespace || (a.namespace === b.namespace && a.name < b.name);

/**
 * What to do after `page`, given the last item of the pages before (`last`) and the tokens
 * followed so far: stop, follow `token`, or a problem (the controller's answer cannot be trusted).
 */
export function nextPage(page: Page, last: Position | undefined, followed: ReadonlySet<string>): { done: true } | { token: string; last: Position | undefined } | { problem: string } {
  if (!Array.isArray(page.items)) return { problem: 'the answer has no items list' };
  const token = page.metadata?.continue;
  let prev = last;
  for (const item of page.items) {
    const at = positionOf(item);
    // Only pages that ask for another are checked for order: a controller that does not page answers whole lists.
    if (token === undefined || token === '') break;
    if (!at) return { problem: 'an item without metadata.namespace and metadata.name in a paged list' };
    if (prev && !before(prev, at)) return { problem: `the list went back or repeated an item (${at.namespace}/${at.name} after ${prev.namespace}/${prev.name})` };
    prev = at;
  }
  if (token === undefined || token === '') return { done: true };
  if (typeof token !== 'string') return { problem: 'metadata.continue is not a string' };
  if (page.items.length === 0) return { problem: 'an empty page that asks for another' };
  if (followed.has(token)) return { problem: 'a continue token given twice' };
  return { token, last: prev };
}

/** Every item of the list at `path` (which may carry a query already), page by page. */
export async function listAll<T>(o: ApiClientOptions, path: string, pageSize = LIST_PAGE_SIZE, caps: ListCaps = LIST_CAPS): Promise<T[]> {
  const items: T[] = [];
  const followed = new Set<string>();
  let last: Position | undefined;
  const tooLong = (pages: number, what: string): SidestashError =>
    new SidestashError(ErrorCodes.LIST_TOO_LONG, `the controller's list at ${path} goes on past ${what} (${items.length} items in ${pages} pages so far); list fewer at once (a namespace, a label selector)`, {
      details: { path, items: items.length, pages, maxItems: caps.maxItems, maxBytes: caps.maxBytes, maxPages: caps.maxPages },
    });
  let pages = 0;
  const budget: AnswerBudget = { bytesLeft: caps.maxBytes, exceeded: () => tooLong(pages, `${caps.maxBytes} bytes`) };
  for (let token: string | undefined; ; ) {
    if (pages === caps.maxPages) throw tooLong(pages, `${caps.maxPages} pages`);
    const q = new URLSearchParams({ limit: String(pageSize), ...(token === undefined ? {} : { continue: token }) });
    pages++;
    const page = await api<Page>(o, 'GET', `${path}${path.includes('?') ? '&' : '?'}${q}`, undefined, undefined, budget);
    const next = nextPage(page ?? {}, last, followed);
    if ('problem' in next) throw new SidestashError(ErrorCodes.CONTROLLER_UNAVAILABLE, `the controller's list at ${path} is not usable: ${next.problem} (after ${items.length} items)`);
    const got = page.items as T[];
    if (items.length + got.length > caps.maxItems) throw tooLong(pages, `${caps.maxItems} items`);
    // Not push(...got): a page of more than about 120,000 items (a controller that does not page) overflowed the stack.
    for (const item of got) items.push(item);
    if ('done' in next) return items;
    followed.add(next.token);
    token = next.token;
    last = next.last;
  }
}
