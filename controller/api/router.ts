// A minimal router: method + path pattern with named groups -> handler.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

export interface Route {
  method: string;
  /** Label for metrics, e.g. "/api/v1/:plural/:name". */
  name: string;
  pattern: RegExp;
  handler: Handler;
}

/** Turns "/api/v1/:plural/:name" into a route; ":plural(a|b)" limits a parameter to those values. */
export function route(method: string, path: string, handler: Handler): Route {
  const pattern = new RegExp(`^${path.replace(/:([a-zA-Z]+)(?:\(([^)]+)\))?/g, (_m, name: string, alt?: string) => `(?<${name}>${alt ?? '[^/]+'})`)}$`);
  return { method, name: path.replace(/\([^)]+\)/g, ''), pattern, handler };
}

/** The matching route; or, when only other methods match the path, the methods allowed there. */
export function match(routes: readonly Route[], method: string, pathname: string): { route: Route; params: Record<string, string> } | { allow: string[] } | undefined {
  const allow: string[] = [];
  for (const r of routes) {
    const m = r.pattern.exec(pathname);
    if (!m) continue;
    if (r.method !== method) {
      allow.push(r.method);
      continue;
    }
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.groups ?? {})) params[k] = decodeParam(v);
    return { route: r, params };
  }
  return allow.length > 0 ? { allow: [...new Set(allow)] } : undefined;
}

/** A percent-decoded path segment; a malformed escape (%zz, %, an invalid UTF-8 sequence) is a 400. */
function decodeParam(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `malformed percent-escape in path segment ${JSON.stringify(segment.slice(0, 100))}`);
  }
}
