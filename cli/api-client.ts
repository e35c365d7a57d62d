// The CLI's client for the controller API (admin token).
import { request } from 'undici';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import { stripTerminalControls } from '../common/terminal-text.ts';

export interface ApiClientOptions {
  url: string;
  token: string;
}

export function apiOptionsFromEnv(flags: { url?: string | undefined; token?: string | undefined }): ApiClientOptions {
  const url = flags.url ?? process.env.SIDESTASH_URL ?? 'http://127.0.0.1:7480';
  const token = flags.token ?? process.env.SIDESTASH_ADMIN_TOKEN;
  if (!token) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'no admin token: set --token or SIDESTASH_ADMIN_TOKEN');
  return { url: url.replace(/\/+$/, ''), token };
}

export async function api<T>(o: ApiClientOptions, method: string, path: string, body?: string | object, contentType = 'application/json'): Promise<T> {
  let res;
  try {
    res = await request(`${o.url}${path}`, {
      method: method as 'GET',
      headers: { authorization: `Bearer ${o.token}`, 'content-type': contentType },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  } catch (err) {
    throw new SidestashError(ErrorCodes.CONTROLLER_UNAVAILABLE, `cannot reach the controller at ${o.url}: ${(err as Error).message}`, { retryable: true });
  }
  const text = await res.body.text();
  const parsed = text ? (JSON.parse(text) as unknown) : undefined;
  if (res.statusCode >= 400) {
    const e = (parsed as { error?: { code?: string; message?: string; errors?: unknown } } | undefined)?.error;
    throw new SidestashError((e?.code as SidestashError['code'] | undefined) ?? ErrorCodes.CONTROLLER_UNAVAILABLE, stripTerminalControls(typeof e?.message === 'string' ? e.message : `HTTP ${res.statusCode}`), { details: { status: res.statusCode, ...(e?.errors ? { errors: e.errors } : {}) } });
  }
  return parsed as T;
}
