// restic REST backend (the rest-server protocol, version 2), e.g. restic's rest-server or
// `rclone serve restic`. Location: "rest:http(s)://host:port/path/"; basic-auth credentials
// from the URL or the storage secret (REST_SERVER_USERNAME, REST_SERVER_PASSWORD); custom CA
// from CA_CERT_DATA.
import { Agent, request } from 'undici';
import { ErrorCodes, SidestashError, isSidestashError, throwIfAborted } from '../../errors.ts';
import type { Backend, BodyPacer, CallOptions, FileHandle, FileInfo, FileType, LoadOptions, SaveOptions } from '../backend.ts';
import { pacedReadable } from '../paced-body.ts';
import { readBounded, remoteExcerpt } from '../remote-excerpt.ts';
import { DEFAULT_RETRY, networkError, parseRetryAfterMs, withRetry } from '../retry.ts';
import type { RetryPolicy } from '../retry.ts';

const V2 = 'application/vnd.x.restic.rest.v2';

export class RestBackend implements Backend {
  readonly location: string;
  readonly pacesUploads = true;
  readonly #base: string;
  readonly #auth: string | undefined;
  readonly #dispatcher: Agent;
  readonly #retry: RetryPolicy;

  constructor(location: string, credentials: Record<string, string> = {}, retry: RetryPolicy = DEFAULT_RETRY) {
    let url: URL;
    try {
      url = new URL(location.replace(/^rest:/, ''));
    } catch {
      throw new SidestashError(ErrorCodes.INVALID_CONFIG, `REST repository: ${JSON.stringify(location)} is not rest:http(s)://host:port/path/`);
    }
    const user = decodeURIComponent(url.username) || credentials.REST_SERVER_USERNAME;
    const pass = decodeURIComponent(url.password) || credentials.REST_SERVER_PASSWORD;
    if (user) this.#auth = `Basic ${Buffer.from(`${user}:${pass ?? ''}`).toString('base64')}`;
    url.username = '';
    url.password = '';
    this.#base = url.toString().replace(/\/+$/, '');
    this.location = `rest:${this.#base}/`;
    this.#retry = retry;
    this.#dispatcher = new Agent({ keepAliveTimeout: 30_000, connect: { timeout: 10_000, ...(credentials.CA_CERT_DATA ? { ca: credentials.CA_CERT_DATA } : {}) } });
  }

  #path(h: FileHandle): string {
    if (h.type === 'config') return '/config';
    if (!/^[0-9a-zA-Z._-]+$/.test(h.name)) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `invalid file name ${JSON.stringify(h.name)}`);
    return `/${h.type}/${h.name}`;
  }

  async #call(method: 'GET' | 'HEAD' | 'POST' | 'DELETE', path: string, opts: { body?: Uint8Array; pace?: BodyPacer | undefined; headers?: Record<string, string>; signal?: AbortSignal | undefined } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
    const what = `REST ${method} ${path}`;
    return withRetry(what, this.#retry, opts.signal, async () => {
      let res;
      try {
        res = await request(`${this.#base}${path}`, {
          method,
          dispatcher: this.#dispatcher,
          headers: { ...(this.#auth ? { authorization: this.#auth } : {}), ...opts.headers, ...(opts.body && opts.pace ? { 'content-length': String(opts.body.byteLength) } : {}) },
          // A paced body is sent slice by slice, afresh on every try.
          ...(opts.body ? { body: opts.pace ? pacedReadable(opts.body, opts.pace, opts.signal) : opts.body } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
          headersTimeout: 120_000,
          bodyTimeout: 120_000,
        });
      } catch (err) {
        if (opts.signal?.aborted) throw new SidestashError(ErrorCodes.ABORTED, `${what}: aborted`, { cause: err });
        throw networkError(what, err);
      }
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      // An error answer is read only up to a bound and shown only as a short, printable excerpt.
      const body = method === 'HEAD' ? (await res.body.dump(), Buffer.alloc(0)) : ok ? Buffer.from(await res.body.arrayBuffer()) : await readBounded(res.body);
      if (ok) return { status: res.statusCode, headers: res.headers, body };
      if (res.statusCode === 404) throw new SidestashError(ErrorCodes.BACKEND_NOT_FOUND, `${what}: not found`);
      const retryAfterMs = parseRetryAfterMs(res.headers['retry-after'], Date.now());
      throw new SidestashError(ErrorCodes.BACKEND_IO, `${what}: ${res.statusCode} ${remoteExcerpt(body)}`.trim(), { retryable: res.statusCode >= 500 || res.statusCode === 429, details: { status: res.statusCode, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) } });
    }, this.location);
  }

  async create(options: CallOptions = {}): Promise<void> {
    try {
      await this.#call('POST', '/?create=true', { signal: options.signal });
    } catch (err) {
      // Servers answer differently when the repository exists already; a listing tells.
      if (!isSidestashError(err, ErrorCodes.BACKEND_IO)) throw err;
      await this.#call('GET', '/keys/', { headers: { accept: V2 }, signal: options.signal });
    }
  }

  async save(h: FileHandle, data: Uint8Array, options: SaveOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    try {
      await this.stat(h, options);
      throw new SidestashError(ErrorCodes.BACKEND_IO, `${h.type}/${h.name} already exists`);
    } catch (err) {
      if (!isSidestashError(err, ErrorCodes.BACKEND_NOT_FOUND)) throw err;
    }
    await this.#call('POST', this.#path(h), { body: data, pace: options.pace, headers: { 'content-type': 'application/octet-stream' }, signal: options.signal });
  }

  async load(h: FileHandle, options: LoadOptions = {}): Promise<Uint8Array> {
    if (options.length === 0) {
      await this.stat(h, options);
      return new Uint8Array(0);
    }
    const headers: Record<string, string> = {};
    if (options.offset !== undefined || options.length !== undefined) {
      const offset = options.offset ?? 0;
      headers.range = `bytes=${offset}-${options.length === undefined ? '' : offset + options.length - 1}`;
    }
    const res = await this.#call('GET', this.#path(h), { headers, signal: options.signal });
    if (options.length !== undefined && res.body.length !== options.length) {
      throw new SidestashError(ErrorCodes.BACKEND_IO, `${h.type}/${h.name}: got ${res.body.length} bytes, wanted ${options.length}`, { retryable: true });
    }
    return res.body;
  }

  async stat(h: FileHandle, options: CallOptions = {}): Promise<FileInfo> {
    const res = await this.#call('HEAD', this.#path(h), { signal: options.signal });
    return { name: h.name, sizeBytes: Number(res.headers['content-length'] ?? 0) };
  }

  async *list(type: FileType, options: CallOptions = {}): AsyncIterable<FileInfo> {
    if (type === 'config') {
      try {
        yield await this.stat({ type: 'config', name: 'config' }, options);
      } catch (err) {
        if (!isSidestashError(err, ErrorCodes.BACKEND_NOT_FOUND)) throw err;
      }
      return;
    }
    let entries: unknown;
    try {
      const res = await this.#call('GET', `/${type}/`, { headers: { accept: V2 }, signal: options.signal });
      entries = JSON.parse(res.body.toString('utf8'));
    } catch (err) {
      if (isSidestashError(err, ErrorCodes.BACKEND_NOT_FOUND)) return;
      throw err;
    }
    for (const e of (entries as ({ name: string; size: number } | string)[]) ?? []) {
      if (typeof e === 'string') yield await this.stat({ type, name: e }, options); // a v1-only server
      else yield { name: e.name, sizeBytes: e.size };
    }
  }

  async remove(h: FileHandle, options: CallOptions = {}): Promise<void> {
    try {
      await this.#call('DELETE', this.#path(h), { signal: options.signal });
    } catch (err) {
      if (!isSidestashError(err, ErrorCodes.BACKEND_NOT_FOUND)) throw err;
    }
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }
}
