// Lists in pages, as Kubernetes does (`?limit=` and `?continue=`): an admin listing thousands of
// sessions or configurations is answered a page at a time, each a bounded piece of work for the
// one event loop that also serves every agent. Without `limit` a list is answered whole, as
// before. The continue token is opaque to clients: the (namespace, name) the page ended after,
// base64url JSON; the next page starts after it in the store's order (namespace, then name), so
// a resource created or deleted between pages neither shifts nor repeats the others.
import { ErrorCodes, SidestashError } from '../../common/errors.ts';

export const MAX_LIST_LIMIT = 10_000;

export interface PageRequest {
  limit?: number;
  after?: { namespace: string; name: string };
}

/** `limit` and `continue` of a list request; INVALID_ARGUMENT for a bad one (both reported). */
export function parsePageRequest(query: URLSearchParams): PageRequest {
  const problems: string[] = [];
  const out: PageRequest = {};
  const limit = query.get('limit');
  if (limit !== null && limit !== '') {
    const n = Number(limit);
    if (!/^\d+$/.test(limit) || n < 1 || n > MAX_LIST_LIMIT) problems.push(`limit: ${JSON.stringify(limit.slice(0, 20))} is not a whole number from 1 to ${MAX_LIST_LIMIT}`);
    else out.limit = n;
  }
  const token = query.get('continue');
  if (token !== null && token !== '') {
    const after = decodeContinue(token);
    if (!after) problems.push('continue: not a token this controller gave (start the list again without it)');
    else out.after = after;
  }
  if (problems.length > 0) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, problems.join('; '), { details: { problems } });
  return out;
}

export function encodeContinue(last: { namespace: string; name: string }): string {
  return Buffer.from(JSON.stringify([last.namespace, last.name])).toString('base64url');
}

/** The position a continue token names; undefined when it is not one. */
export function decodeContinue(token: string): { namespace: string; name: string } | undefined {
  if (token.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'string' || v[0].length > 253 || v[1].length > 253) return undefined;
    return { namespace: v[0], name: v[1] };
  } catch {
    return undefined;
  }
}

/** The list metadata of a page: a continue token when the page is full (more may follow). */
export function pageMetadata(items: readonly { metadata: { namespace: string; name: string } }[], limit: number | undefined): { continue?: string } {
  const last = items.at(-1);
  return limit !== undefined && items.length >= limit && last ? { continue: encodeContinue(last.metadata) } : {};
}
