// Small HTTP helpers for the API: bounded body reading, JSON/YAML parsing, error responses
// with stable codes, bearer-token checks.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes, SidestashError, isSidestashError } from '../../common/errors.ts';
import { parseYamlDocuments } from './yaml-documents.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `request body larger than ${limit} bytes`, { details: { status: 413 } });
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A body as text; bytes that are not UTF-8 are refused (400), never replaced with U+FFFD. */
export function decodeUtf8(body: Uint8Array): string {
  try {
    return strictUtf8.decode(body);
  } catch {
    throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'request body is not valid UTF-8');
  }
}

/** The request target as a URL (origin-form "/p?q" or absolute-form); undefined when malformed. */
export function requestUrl(target: string | undefined): URL | undefined {
  try {
    return target === undefined || target.startsWith('/') ? new URL(`http://controller${target ?? '/'}`) : new URL(target);
  } catch {
    return undefined;
  }
}

/** Parses a JSON or YAML body (one or more documents). */
export function parseDocuments(body: Buffer, contentType: string | undefined): unknown[] {
  const text = decodeUtf8(body);
  if (text.trim() === '') throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'request body is empty');
  const isJson = (contentType ?? '').includes('json') || /^\s*[[{]/.test(text);
  let docs: unknown[];
  if (isJson) {
    try {
      const parsed = JSON.parse(text) as unknown;
      docs = Array.isArray(parsed) ? parsed : [parsed];
    } catch (err) {
      throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `invalid JSON: ${(err as Error).message}`);
    }
  } else {
    docs = parseYamlDocuments(text);
  }
  const all = docs.flatMap((d) => (d && typeof d === 'object' && (d as { kind?: unknown }).kind === 'List' && Array.isArray((d as { items?: unknown }).items) ? (d as { items: unknown[] }).items : [d]));
  if (all.length === 0) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'the request holds no documents');
  return all;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

const STATUS_BY_CODE: Partial<Record<string, number>> = {
  [ErrorCodes.VALIDATION_FAILED]: 422,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.SNAPSHOT_NOT_FOUND]: 404,
  [ErrorCodes.CONFLICT]: 409,
  [ErrorCodes.UNAUTHORIZED]: 401,
  [ErrorCodes.FORBIDDEN]: 403,
  [ErrorCodes.INVALID_ARGUMENT]: 400,
  [ErrorCodes.WRONG_PASSWORD]: 502,
  [ErrorCodes.NOT_A_REPOSITORY]: 502,
  // A resource refers to one that is missing or unusable: a conflict with the stored state.
  [ErrorCodes.INVALID_CONFIG]: 409,
  // Kubernetes mode: the API server (the store) did not answer.
  [ErrorCodes.KUBE_UNAVAILABLE]: 503,
  // ...or refused the controller's own credentials: an upstream failure, never the caller's 401/403.
  [ErrorCodes.KUBE_DENIED]: 502,
};

export function statusFor(err: unknown): number {
  if (!isSidestashError(err)) return 500;
  const explicit = err.details.status;
  return typeof explicit === 'number' ? explicit : (STATUS_BY_CODE[err.code] ?? 500);
}

export function sendError(res: ServerResponse, err: unknown): void {
  const status = statusFor(err);
  if (isSidestashError(err) && Array.isArray(err.details.allow)) res.setHeader('allow', (err.details.allow as string[]).join(', '));
  const body = isSidestashError(err)
    ? { error: { code: err.code, message: err.message, retryable: err.retryable, ...(Array.isArray(err.details.errors) ? { errors: err.details.errors } : {}), ...(Array.isArray(err.details.users) ? { users: err.details.users } : {}) } }
    : { error: { code: 'SIDESTASH_INTERNAL', message: 'internal error', retryable: true } };
  sendJson(res, status, body);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The bearer token of a request, or undefined (also for an empty one). */
export function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7).trim() || undefined : undefined;
}

export function tokenMatches(presented: string | undefined, expectedSha256: string): boolean {
  if (!presented) return false;
  return timingSafeEqual(Buffer.from(sha256(presented), 'hex'), Buffer.from(expectedSha256, 'hex'));
}

/** 405 with the methods a path supports (RFC 9110 wants them in Allow). */
export function methodNotAllowed(method: string | undefined, path: string, allow: string[]): SidestashError {
  return new SidestashError(ErrorCodes.INVALID_ARGUMENT, `${method ?? '?'} not allowed on ${path}; use ${allow.join(', ')}`, { details: { status: 405, allow } });
}

export function unauthorized(what = 'a valid bearer token is required'): SidestashError {
  return new SidestashError(ErrorCodes.UNAUTHORIZED, what);
}
