// The upload bandwidth limit (like restic's --limit-upload), as one wrapper around any
// backend: every save() body is paid for from one token bucket (token-bucket.ts) before it
// is handed on, so all concurrent uploads through this backend share the limit. Downloads,
// listings and removals pass through unlimited: a restore is urgent; so do lock files, which
// must not wait behind the limit.
//
// The network backends (S3, REST: `pacesUploads`) send each body in slices of an eighth of a
// second at the limit (512 B to 64 KiB), each paid for as it goes (paced-body.ts), so the link
// sees a steady rate and no connection stays silent for long; other backends (a
// local directory) are paid for whole bodies before the write. Measured at the wire in
// test/upload-limit.test.ts.
import { throwIfAborted } from '../errors.ts';
import type { Backend, BodyPacer, CallOptions, FileHandle, FileInfo, FileType, LoadOptions, SaveOptions } from './backend.ts';
import { PACE_SLICE_BYTES, paceSliceBytes } from './paced-body.ts';
import { TokenBucket } from './token-bucket.ts';
import type { TokenBucketClock } from './token-bucket.ts';

/** The allowed range of limitUploadKiBps (BackupConfiguration and agent): 1 KiB/s to 10 GiB/s. */
export const MIN_LIMIT_UPLOAD_KIBPS = 1;
export const MAX_LIMIT_UPLOAD_KIBPS = 10_485_760;

/** Why `value` is not a valid limitUploadKiBps; undefined when it is. */
export function limitUploadProblem(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_LIMIT_UPLOAD_KIBPS || value > MAX_LIMIT_UPLOAD_KIBPS) {
    return `must be an integer from ${MIN_LIMIT_UPLOAD_KIBPS} to ${MAX_LIMIT_UPLOAD_KIBPS} (KiB/s), not ${JSON.stringify(value)}`;
  }
  return undefined;
}

/** One bucket per limit, in KiB/s. */
export function uploadBucket(limitKiBps: number, clock?: TokenBucketClock): TokenBucket {
  return new TokenBucket(limitKiBps * 1024, clock);
}

export class RateLimitedBackend implements Backend {
  readonly location: string;
  /** The lowest of the limits, in KiB/s. */
  readonly limitKiBps: number;
  readonly #inner: Backend;
  readonly #buckets: readonly TokenBucket[];
  /** Every byte is paid for in every bucket, so the lowest limit holds (and each shared one across its backends). */
  readonly #pace: BodyPacer = Object.assign(async (bytes: number, signal?: AbortSignal) => {
    for (const b of this.#buckets) await b.take(bytes, signal);
  }, { sliceBytes: PACE_SLICE_BYTES });

  /**
   * `limits`: a limit in KiB/s (a bucket of this backend's own), or buckets shared with
   * other backends (the agent's limit over all its sessions); all of them apply.
   */
  constructor(inner: Backend, limits: number | readonly TokenBucket[], clock?: TokenBucketClock) {
    this.#inner = inner;
    this.location = inner.location;
    this.#buckets = typeof limits === 'number' ? [uploadBucket(limits, clock)] : limits;
    if (this.#buckets.length === 0) throw new RangeError('RateLimitedBackend needs at least one limit');
    this.limitKiBps = Math.min(...this.#buckets.map((b) => b.rate.bytesPerSecond / 1024));
    this.#pace.sliceBytes = paceSliceBytes(this.limitKiBps * 1024);
    if (inner.removeLeftovers) this.removeLeftovers = (olderThanMs, options) => inner.removeLeftovers!(olderThanMs, options);
  }

  removeLeftovers?: (olderThanMs: number, options?: CallOptions) => Promise<number>;

  create(options?: CallOptions): Promise<void> {
    return this.#inner.create(options);
  }

  async save(handle: FileHandle, data: Uint8Array, options: SaveOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    // Lock files (a few hundred bytes every 5 minutes) pass unlimited: queued behind the limit's
    // debt, a refresh could come too late and the operation would lose its lock.
    if (handle.type === 'locks') return this.#inner.save(handle, data, options);
    if (this.#inner.pacesUploads) return this.#inner.save(handle, data, { ...options, pace: this.#pace });
    await this.#pace(data.byteLength, options.signal);
    await this.#inner.save(handle, data, options);
  }

  load(handle: FileHandle, options?: LoadOptions): Promise<Uint8Array> {
    return this.#inner.load(handle, options);
  }

  stat(handle: FileHandle, options?: CallOptions): Promise<FileInfo> {
    return this.#inner.stat(handle, options);
  }

  list(type: FileType, options?: CallOptions): AsyncIterable<FileInfo> {
    return this.#inner.list(type, options);
  }

  remove(handle: FileHandle, options?: CallOptions): Promise<void> {
    return this.#inner.remove(handle, options);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/** `backend` under its own limit and the shared buckets, or itself when there are none. */
export function limitUploads(backend: Backend, limitKiBps: number | undefined, shared: readonly TokenBucket[] = []): Backend {
  const buckets = [...(limitKiBps === undefined ? [] : [uploadBucket(limitKiBps)]), ...shared];
  return buckets.length === 0 ? backend : new RateLimitedBackend(backend, buckets);
}
