// The CLI's client for the controller API (admin token), over HTTPS: the controller's CA
// from SIDESTASH_CA_FILE (or the system's trust store); http:// only with
// SIDESTASH_INSECURE_HTTP=true.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import { stripTerminalControls } from '../common/terminal-text.ts';

export interface ApiClientOptions {
  url: string;
  token: string;
  /** PEM of the CA that signed the controller's certificate. */
  ca?: string;
}

export function apiOptionsFromEnv(flags: { url?: string | undefined; token?: string | undefined }, env: Record<string, string | undefined> = process.env): ApiClientOptions {
  const url = flags.url ?? env.SIDESTASH_URL ?? 'https://127.0.0.1:7480';
  const token = flags.token ?? env.SIDESTASH_ADMIN_TOKEN;
  if (!token) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'no admin token: set --token or SIDESTASH_ADMIN_TOKEN');
  if (!/^https?:\/\/[^/]+/.test(url)) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `--url/SIDESTASH_URL: ${JSON.stringify(url)} is not an https:// URL`);
  if (url.startsWith('http://') && env.SIDESTASH_INSECURE_HTTP !== 'true') {
    throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `--url/SIDESTASH_URL: ${url} is plain HTTP, which would send the admin token unencrypted; use https:// (with SIDESTASH_CA_FILE for the controller's CA), or set SIDESTASH_INSECURE_HTTP=true`);
  }
  const o: ApiClientOptions = { url: url.replace(/\/+$/, ''), token };
  const caFile = env.SIDESTASH_CA_FILE;
  if (caFile) {
    try {
      o.ca = readFileSync(caFile, 'utf8');
    } catch (err) {
      throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `SIDESTASH_CA_FILE: cannot read ${caFile}: ${(err as Error).message}`);
    }
  }
  return o;
}

const dispatchers = new Map<string, Dispatcher>();

function dispatcherFor(ca: string | undefined): Dispatcher | undefined {
  if (!ca) return undefined;
  let d = dispatchers.get(ca);
  if (!d) dispatchers.set(ca, (d = new Agent({ connect: { ca } })));
  return d;
}

/**
 * A call that reaches a controller replica that does not lead (Kubernetes mode: a session
 * trigger, which only the leader does) answers 503 NOT_LEADER and closes the connection; it is
 * made again, on a new connection (which the Service may send to another replica), after the
 * Retry-After the replica asks (at most 1 s), up to this many times in all: enough for the
 * Service to find the leader, or for a new one to be elected (about a lease duration, 15 s).
 */
export const NOT_LEADER_ATTEMPTS = 20;
const NOT_LEADER_MAX_WAIT_MS = 1_000;

/** Milliseconds to wait from a Retry-After header (delta seconds), capped; 1 s when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined): number {
  const s = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(s) && s >= 0 ? Math.min(s * 1000, NOT_LEADER_MAX_WAIT_MS) : NOT_LEADER_MAX_WAIT_MS;
}

/** A bound on the bytes of the answers read (listAll): reading past it throws `exceeded()`. */
export interface AnswerBudget {
  bytesLeft: number;
  exceeded(): SidestashError;
}

export async function api<T>(o: ApiClientOptions, method: string, path: string, body?: string | object, contentType = 'application/json', budget?: AnswerBudget): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const r = await apiOnce<T>(o, method, path, body, contentType, budget);
    if (!('waitMs' in r)) return r.value;
    if (attempt >= NOT_LEADER_ATTEMPTS) throw r.error;
    await new Promise((resolve) => setTimeout(resolve, r.waitMs));
  }
}

/** The answer's text, its bytes counted against `budget`: no more than that is held. */
async function answerText(body: Dispatcher.ResponseData['body'], budget: AnswerBudget | undefined): Promise<string> {
  if (!budget) return body.text();
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) {
    budget.bytesLeft -= chunk.length;
    if (budget.bytesLeft < 0) {
      body.destroy();
      throw budget.exceeded();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function apiOnce<T>(o: ApiClientOptions, method: string, path: string, body: string | object | undefined, contentType: string, budget?: AnswerBudget): Promise<{ value: T } | { error: SidestashError; waitMs: number }> {
  let res;
  try {
    const dispatcher = dispatcherFor(o.ca);
    res = await request(`${o.url}${path}`, {
      method: method as 'GET',
      headers: { authorization: `Bearer ${o.token}`, 'content-type': contentType },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      ...(dispatcher ? { dispatcher } : {}),
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new SidestashError(ErrorCodes.CONTROLLER_UNAVAILABLE, `cannot reach the controller at ${o.url}: ${code ? `${code}: ` : ''}${(err as Error).message}`, { retryable: true });
  }
  const text = await answerText(res.body, budget);
  const parsed = text ? (JSON.parse(text) as unknown) : undefined;
  if (res.statusCode >= 400) {
    const e = (parsed as { error?: { code?: string; message?: string; errors?: unknown } } | undefined)?.error;
    const code = (e?.code as SidestashError['code'] | undefined) ?? ErrorCodes.CONTROLLER_UNAVAILABLE;
    const error = new SidestashError(code, stripTerminalControls(typeof e?.message === 'string' ? e.message : `HTTP ${res.statusCode}`), { details: { status: res.statusCode, ...(e?.errors ? { errors: e.errors } : {}) } });
    if (code === ErrorCodes.NOT_LEADER) return { error, waitMs: retryAfterMs(res.headers['retry-after']) };
    throw error;
  }
  return { value: parsed as T };
}
