// S3 backend (AWS S3, MinIO, Ceph RGW, GCS interoperability, Cloudflare R2, ...): restic's
// default layout under the prefix, multipart uploads for large packs, retries with backoff.
import { ErrorCodes, SidestashError, isSidestashError, throwIfAborted } from '../../errors.ts';
import { remoteExcerpt } from '../remote-excerpt.ts';
import type { Backend, BodyPacer, CallOptions, FileHandle, FileInfo, FileType, LoadOptions, SaveOptions } from '../backend.ts';
import { mapConcurrent } from '../../repository/concurrency.ts';
import { DEFAULT_RETRY, withRetry } from '../retry.ts';
import type { RetryPolicy } from '../retry.ts';
import { S3Client, xml } from './s3-client.ts';
import type { S3Config } from './s3-config.ts';

const PART_CONCURRENCY = 2;
/** How long a failed or cancelled multipart upload's abort is tried. */
const ABORT_UPLOAD_MS = 30_000;

export class S3Backend implements Backend {
  readonly location: string;
  readonly pacesUploads = true;
  readonly #client: S3Client;
  readonly #retry: RetryPolicy;

  constructor(config: S3Config, retry: RetryPolicy = DEFAULT_RETRY) {
    this.#client = new S3Client(config);
    this.#retry = retry;
    this.location = `s3:${config.endpoint.origin}/${config.bucket}${config.prefix ? `/${config.prefix}` : ''}`;
  }

  #key(h: FileHandle): string {
    if (h.type !== 'config' && !/^[0-9a-zA-Z._-]+$/.test(h.name)) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `invalid file name ${JSON.stringify(h.name)}`);
    const base = h.type === 'config' ? 'config' : h.type === 'data' ? `data/${h.name.slice(0, 2)}/${h.name}` : `${h.type}/${h.name}`;
    return this.#client.config.prefix ? `${this.#client.config.prefix}/${base}` : base;
  }

  #send<T>(what: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    return withRetry(what, this.#retry, signal, fn, this.location);
  }

  async create(options: CallOptions = {}): Promise<void> {
    try {
      await this.#send('head bucket', options.signal, () => this.#client.send({ method: 'HEAD', key: '', ...signal(options) }));
    } catch (err) {
      const status = isSidestashError(err) ? err.details.status : undefined;
      if (status !== 404 && !isSidestashError(err, ErrorCodes.BACKEND_NOT_FOUND)) throw err;
      const region = this.#client.config.region;
      const body = region === 'us-east-1' ? undefined : Buffer.from(`<CreateBucketConfiguration><LocationConstraint>${region}</LocationConstraint></CreateBucketConfiguration>`);
      await this.#send('create bucket', options.signal, () => this.#client.send({ method: 'PUT', key: '', ...(body ? { body } : {}), ...signal(options) }));
    }
  }

  async save(h: FileHandle, data: Uint8Array, options: SaveOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    const key = this.#key(h);
    try {
      await this.stat(h, options);
      throw new SidestashError(ErrorCodes.BACKEND_IO, `${h.type}/${h.name} already exists`);
    } catch (err) {
      if (!isSidestashError(err, ErrorCodes.BACKEND_NOT_FOUND)) throw err;
    }
    if (data.length >= this.#client.config.multipartThresholdBytes) {
      await this.#multipart(key, data, options);
      return;
    }
    await this.#send(`put ${key}`, options.signal, () => this.#client.send({ method: 'PUT', key, body: data, ...pace(options), headers: { 'content-type': 'application/octet-stream' }, ...signal(options) }));
  }

  async #multipart(key: string, data: Uint8Array, options: SaveOptions): Promise<void> {
    const init = await this.#send(`start upload ${key}`, options.signal, () => this.#client.send({ method: 'POST', key, query: { uploads: '' }, ...signal(options) }));
    const uploadId = (xml.parse(init.body.toString('utf8')) as { InitiateMultipartUploadResult?: { UploadId?: string } }).InitiateMultipartUploadResult?.UploadId;
    if (!uploadId) throw new SidestashError(ErrorCodes.BACKEND_IO, `S3 ${key}: no UploadId in the multipart response`);
    const size = this.#client.config.partSizeBytes;
    const parts = Array.from({ length: Math.ceil(data.length / size) }, (_, i) => i);
    try {
      // After a failed part no other starts, and the upload is aborted (below) only once the
      // parts in flight have settled, so that no part lands after the abort.
      const etags = await mapConcurrent(parts, PART_CONCURRENCY, async (i) => {
        const body = data.subarray(i * size, Math.min(data.length, (i + 1) * size));
        const res = await this.#send(`upload part ${i + 1} of ${key}`, options.signal, () =>
          this.#client.send({ method: 'PUT', key, query: { partNumber: String(i + 1), uploadId }, body, ...pace(options), ...signal(options) }),
        );
        const etag = res.headers.etag;
        if (!etag) throw new SidestashError(ErrorCodes.BACKEND_IO, `S3 ${key}: part ${i + 1} has no ETag`);
        return etag;
      });
      const complete = Buffer.from(`<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</ETag></Part>`).join('')}</CompleteMultipartUpload>`);
      let sent = 0;
      try {
        await this.#send(`complete upload ${key}`, options.signal, async () => {
          sent++;
          const res = await this.#client.send({ method: 'POST', key, query: { uploadId }, body: complete, ...signal(options) });
          // S3 may answer 200 with an error document when completing fails late (it may have
          // sent the status and whitespace before it knew): a failure, tried again.
          const answer = completeAnswer(res.body);
          if (answer.failure) throw new SidestashError(ErrorCodes.BACKEND_IO, `S3 POST ${key}: completing the upload failed: 200 ${answer.failure}`, { retryable: true, details: { status: res.status } });
          // No result document (a server that sends none): the object must be there, whole.
          if (!answer.completed && (await this.#sizeOf(key, options)) !== data.length) {
            throw new SidestashError(ErrorCodes.BACKEND_IO, `S3 POST ${key}: completing the upload answered 200 without a result, and the object is not there whole`, { retryable: true });
          }
        });
      } catch (err) {
        // An earlier try may have completed the upload and lost only its answer: the upload id
        // is then gone and the object is there, whole.
        if (!(sent > 1 && isSidestashError(err, ErrorCodes.BACKEND_NOT_FOUND) && (await this.#sizeOf(key, options)) === data.length)) throw err;
      }
    } catch (err) {
      await this.#abortUpload(key, uploadId);
      throw err;
    }
  }

  /**
   * Aborts a multipart upload, retried (even after the caller's signal fired) so that its parts
   * do not stay behind, for at most ABORT_UPLOAD_MS (a cancelled backup ends promptly).
   */
  async #abortUpload(key: string, uploadId: string): Promise<void> {
    const deadline = AbortSignal.timeout(ABORT_UPLOAD_MS);
    await withRetry(`abort upload ${key}`, this.#retry, deadline, () => this.#client.send({ method: 'DELETE', key, query: { uploadId }, signal: deadline })).catch(() => {
      // Gone already (404), or the parts stay until a bucket lifecycle rule
      // (AbortIncompleteMultipartUpload) removes them; the upload's own error is what counts.
    });
  }

  async #sizeOf(key: string, options: CallOptions): Promise<number | undefined> {
    try {
      const res = await this.#send(`head ${key}`, options.signal, () => this.#client.send({ method: 'HEAD', key, ...signal(options) }));
      return Number(res.headers['content-length'] ?? -1);
    } catch {
      return undefined;
    }
  }

  async load(h: FileHandle, options: LoadOptions = {}): Promise<Uint8Array> {
    const key = this.#key(h);
    if (options.length === 0) {
      await this.stat(h, options);
      return new Uint8Array(0);
    }
    const offset = options.offset ?? 0;
    const headers: Record<string, string> = {};
    if (options.offset !== undefined || options.length !== undefined) headers.range = `bytes=${offset}-${options.length === undefined ? '' : offset + options.length - 1}`;
    const res = await this.#send(`get ${key}`, options.signal, () => this.#client.send({ method: 'GET', key, headers, ...signal(options) }));
    if (options.length !== undefined && res.body.length !== options.length) {
      throw new SidestashError(ErrorCodes.BACKEND_IO, `${h.type}/${h.name}: got ${res.body.length} bytes, wanted ${options.length}`, { retryable: true });
    }
    return res.body;
  }

  async stat(h: FileHandle, options: CallOptions = {}): Promise<FileInfo> {
    const key = this.#key(h);
    const res = await this.#send(`head ${key}`, options.signal, () => this.#client.send({ method: 'HEAD', key, ...signal(options) }));
    return { name: h.name, sizeBytes: Number(res.headers['content-length'] ?? 0) };
  }

  async *list(type: FileType, options: CallOptions = {}): AsyncIterable<FileInfo> {
    const base = this.#client.config.prefix ? `${this.#client.config.prefix}/` : '';
    const prefix = type === 'config' ? `${base}config` : `${base}${type}/`;
    let token: string | undefined;
    do {
      const query: Record<string, string> = { 'list-type': '2', prefix };
      if (token) query['continuation-token'] = token;
      let res;
      try {
        res = await this.#send(`list ${prefix}`, options.signal, () => this.#client.send({ method: 'GET', key: '', query, ...signal(options) }));
      } catch (err) {
        // A bucket that does not exist (yet) holds nothing, like a missing directory.
        if (isSidestashError(err, ErrorCodes.BACKEND_NOT_FOUND)) return;
        throw err;
      }
      const parsed = (xml.parse(res.body.toString('utf8')) as { ListBucketResult?: { Contents?: { Key: string; Size: string }[]; IsTruncated?: string; NextContinuationToken?: string } }).ListBucketResult;
      for (const c of parsed?.Contents ?? []) {
        const name = c.Key.slice(c.Key.lastIndexOf('/') + 1);
        if (type === 'config' ? c.Key === prefix : name.length > 0) yield { name, sizeBytes: Number(c.Size) };
      }
      token = parsed?.IsTruncated === 'true' ? parsed.NextContinuationToken : undefined;
      // A truncated listing without a way on would silently hide files (prune would then
      // miss orphans, check would miss packs).
      if (parsed?.IsTruncated === 'true' && !token) throw new SidestashError(ErrorCodes.BACKEND_IO, `S3 list ${prefix}: the listing is truncated but has no continuation token`);
    } while (token);
  }

  async remove(h: FileHandle, options: CallOptions = {}): Promise<void> {
    const key = this.#key(h);
    try {
      await this.#send(`delete ${key}`, options.signal, () => this.#client.send({ method: 'DELETE', key, ...signal(options) }));
    } catch (err) {
      if (!isSidestashError(err, ErrorCodes.BACKEND_NOT_FOUND)) throw err;
    }
  }

  /** Aborts this repository's multipart uploads started more than olderThanMs ago (interrupted saves). */
  async removeLeftovers(olderThanMs: number, options: CallOptions = {}): Promise<number> {
    const base = this.#client.config.prefix ? `${this.#client.config.prefix}/` : '';
    const ours = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(config|(keys|locks|snapshots|index)/[0-9a-zA-Z._-]+|data/[0-9a-zA-Z._-]{2}/[0-9a-zA-Z._-]+)$`);
    const before = Date.now() - olderThanMs;
    const stale: { key: string; uploadId: string }[] = [];
    let marker: { key: string; uploadId: string } | undefined;
    do {
      const query: Record<string, string> = { uploads: '', prefix: base };
      if (marker) Object.assign(query, { 'key-marker': marker.key, 'upload-id-marker': marker.uploadId });
      const res = await this.#send(`list uploads ${base}`, options.signal, () => this.#client.send({ method: 'GET', key: '', query, ...signal(options) }));
      type Upload = { Key?: string; UploadId?: string; Initiated?: string };
      const parsed = (xml.parse(res.body.toString('utf8')) as { ListMultipartUploadsResult?: { Upload?: Upload | Upload[]; IsTruncated?: string; NextKeyMarker?: string; NextUploadIdMarker?: string } }).ListMultipartUploadsResult;
      for (const u of [parsed?.Upload ?? []].flat()) {
        const initiated = Date.parse(u.Initiated ?? '');
        if (u.Key && u.UploadId && ours.test(u.Key) && initiated < before) stale.push({ key: u.Key, uploadId: u.UploadId });
      }
      const next = parsed?.IsTruncated === 'true' && parsed.NextKeyMarker ? { key: parsed.NextKeyMarker, uploadId: parsed.NextUploadIdMarker ?? '' } : undefined;
      marker = next && (next.key !== marker?.key || next.uploadId !== marker?.uploadId) ? next : undefined;
    } while (marker);
    for (const u of stale) {
      throwIfAborted(options.signal);
      try {
        await this.#send(`abort upload ${u.key}`, options.signal, () => this.#client.send({ method: 'DELETE', key: u.key, query: { uploadId: u.uploadId }, ...signal(options) }));
      } catch (err) {
        if (!isSidestashError(err, ErrorCodes.BACKEND_NOT_FOUND)) throw err;
      }
    }
    return stale.length;
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

/** What an S3 answer of 200 to CompleteMultipartUpload says: an error document, a result, or neither. */
export function completeAnswer(body: Buffer): { failure?: string; completed: boolean } {
  const text = body.toString('utf8');
  if (text.trim() === '') return { completed: false };
  let doc: { Error?: { Code?: unknown; Message?: unknown }; CompleteMultipartUploadResult?: unknown };
  try {
    doc = xml.parse(text) as typeof doc;
  } catch {
    return { failure: `unreadable answer: ${remoteExcerpt(body)}`, completed: false };
  }
  if (doc.Error !== undefined) {
    const code = typeof doc.Error?.Code === 'string' && /^[A-Za-z0-9.]{1,64}$/.test(doc.Error.Code) ? doc.Error.Code : 'Error';
    return { failure: `${code}${doc.Error?.Message !== undefined ? `: ${remoteExcerpt(String(doc.Error.Message))}` : ''}`, completed: false };
  }
  return { completed: doc.CompleteMultipartUploadResult !== undefined };
}

function signal(o: CallOptions): { signal?: AbortSignal } {
  return o.signal ? { signal: o.signal } : {};
}

function pace(o: SaveOptions): { pace?: BodyPacer } {
  return o.pace ? { pace: o.pace } : {};
}
