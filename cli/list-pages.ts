// The CLI's lists follow the controller's pages (controller/api/list-pages.ts): `?limit=` pages
// of LIST_PAGE_SIZE, then `?continue=` until the controller gives no more, so that listing
// thousands of sessions never makes the controller answer them in one piece. A controller that
// does not page answers the whole list at once, without metadata.continue: the loop ends there.
import { api } from './api-client.ts';
import type { ApiClientOptions } from './api-client.ts';

export const LIST_PAGE_SIZE = 500;

/** Every item of the list at `path` (which may carry a query already), page by page. */
export async function listAll<T>(o: ApiClientOptions, path: string, pageSize = LIST_PAGE_SIZE): Promise<T[]> {
  const items: T[] = [];
  const seen = new Set<string>();
  for (let token: string | undefined; ; ) {
    const q = new URLSearchParams({ limit: String(pageSize), ...(token === undefined ? {} : { continue: token }) });
    const page = await api<{ items: T[]; metadata?: { continue?: string } }>(o, 'GET', `${path}${path.includes('?') ? '&' : '?'}${q}`);
    items.push(...page.items);
    token = page.metadata?.continue;
    // A token seen before would loop for ever: a controller's bug, not a list without end.
    if (token === undefined || token === '' || seen.has(token)) return items;
    seen.add(token);
  }
}
