// Signed S3 requests: SigV4 (@smithy/signature-v4) over @smithy/node-http-handler with
// keep-alive agents and an optional custom CA. Error responses become coded errors:
// 404 BACKEND_NOT_FOUND, 5xx/429/SlowDown retryable (after the server's Retry-After), others not.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import { Hash } from '@smithy/hash-node';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { XMLParser } from 'fast-xml-parser';
import { ErrorCodes, SidestashError } from '../../errors.ts';
import { readBounded, remoteExcerpt } from '../remote-excerpt.ts';
import { networkError, parseRetryAfterMs } from '../retry.ts';
import type { S3Config } from './s3-config.ts';
import type { BodyPacer } from '../backend.ts';
import { pacedReadable } from '../paced-body.ts';

export interface S3Response {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface S3Request {
  method: 'GET' | 'PUT' | 'POST' | 'HEAD' | 'DELETE';
  /** Object key (without the bucket); empty for bucket-level requests. */
  key: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Sends the body in paced slices (the upload limit); it is signed whole first. */
  pace?: BodyPacer;
  signal?: AbortSignal;
}

export const xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false, isArray: (name) => name === 'Contents' || name === 'Part' });

const NOT_FOUND_CODES = new Set(['NoSuchKey', 'NoSuchBucket', 'NoSuchUpload', 'NotFound']);

export class S3Client {
  readonly config: S3Config;
  readonly #signer: SignatureV4;
  readonly #handler: NodeHttpHandler;

  constructor(config: S3Config) {
    this.config = config;
    this.#signer = new SignatureV4({
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey, ...(config.sessionToken ? { sessionToken: config.sessionToken } : {}) },
      region: config.region,
      service: 's3',
      sha256: Hash.bind(null, 'sha256'),
      uriEscapePath: false,
      applyChecksum: true,
    });
    this.#handler = new NodeHttpHandler({
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 16 }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 16, ...(config.caCert ? { ca: config.caCert } : {}) }),
      // The request timeout is one of inactivity: a request whose connection stays silent this
      // long (a blackholed link) fails, retryable, so the retry window closes. (requestTimeout
      // only logs a warning in @smithy/node-http-handler 4, and bounds the whole request, which a
      // paced upload on a thin link may rightly exceed.)
      socketTimeout: config.requestTimeoutMs,
      connectionTimeout: 10_000,
    });
  }

  #target(key: string): { hostname: string; path: string } {
    const escaped = key.split('/').map(encodeURIComponent).join('/');
    if (this.config.pathStyle) return { hostname: this.config.endpoint.hostname, path: `/${this.config.bucket}${key ? `/${escaped}` : ''}` };
    return { hostname: `${this.config.bucket}.${this.config.endpoint.hostname}`, path: `/${escaped}` };
  }

  async send(r: S3Request): Promise<S3Response> {
    const { hostname, path } = this.#target(r.key);
    const port = this.config.endpoint.port ? Number(this.config.endpoint.port) : undefined;
    const headers: Record<string, string> = { host: port ? `${hostname}:${port}` : hostname, ...r.headers };
    if (r.body) headers['content-length'] = String(r.body.length);
    const request = new HttpRequest({
      protocol: this.config.endpoint.protocol,
      hostname,
      ...(port ? { port } : {}),
      method: r.method,
      path,
      query: r.query ?? {},
      headers,
      ...(r.body ? { body: r.body } : {}),
    });
    const what = `S3 ${r.method} ${r.key || this.config.bucket}`;
    let status: number;
    let resHeaders: Record<string, string>;
    let body: Buffer;
    try {
      const signed = await this.#signer.sign(request);
      if (r.body && r.pace) signed.body = pacedReadable(r.body, r.pace, r.signal);
      const { response } = await this.#handler.handle(signed as HttpRequest, r.signal ? { abortSignal: r.signal } : {});
      status = response.statusCode;
      resHeaders = response.headers;
      const ok = status >= 200 && status < 300;
      // An error answer is read only up to a bound and shown only as a short, printable excerpt.
      body = r.method === 'HEAD' ? Buffer.alloc(0) : ok ? await readAll(response.body as Readable | undefined) : response.body ? await readBounded(response.body as Readable) : Buffer.alloc(0);
    } catch (err) {
      if (r.signal?.aborted) throw new SidestashError(ErrorCodes.ABORTED, `${what}: aborted`, { cause: err });
      throw networkError(what, err);
    }
    if (status >= 200 && status < 300) return { status, headers: resHeaders, body };
    const e = s3Error(body);
    const detail = `${status}${e?.Code ? ` ${e.Code}` : ''}${e?.Message ? `: ${e.Message}` : ''}`;
    // A 404 means "not found" only for a missing object or bucket (or a HEAD, which has no body):
    // versitygw answers an unknown access key with 404 too, which is no missing repository.
    if (status === 404 && (e?.Code === undefined || NOT_FOUND_CODES.has(e.Code))) throw new SidestashError(ErrorCodes.BACKEND_NOT_FOUND, `${what}: ${e?.Code === 'NoSuchBucket' ? 'bucket does not exist' : 'not found'}`, { details: { status, s3Code: e?.Code } });
    const retryable = status >= 500 || status === 429 || e?.Code === 'SlowDown' || e?.Code === 'RequestTimeout';
    const retryAfterMs = parseRetryAfterMs(resHeaders['retry-after'], Date.now());
    throw new SidestashError(ErrorCodes.BACKEND_IO, `${what}: ${detail}`, { retryable, details: { status, s3Code: e?.Code, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) } });
  }

  async close(): Promise<void> {
    this.#handler.destroy();
  }
}

/** The Code (a plain word, else none) and Message (an excerpt) of an S3 error answer. */
function s3Error(body: Buffer): { Code?: string; Message?: string } | undefined {
  if (body.length === 0) return undefined;
  let e: { Code?: unknown; Message?: unknown } | undefined;
  try {
    e = (xml.parse(body.toString('utf8')) as { Error?: { Code?: unknown; Message?: unknown } }).Error;
  } catch {
    e = undefined;
  }
  const code = typeof e?.Code === 'string' && /^[A-Za-z0-9.]{1,64}$/.test(e.Code) ? e.Code : undefined;
  const message = e?.Message !== undefined ? remoteExcerpt(String(e.Message)) : e ? undefined : remoteExcerpt(body);
  return { ...(code ? { Code: code } : {}), ...(message ? { Message: message } : {}) };
}

async function readAll(stream: Readable | undefined): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
