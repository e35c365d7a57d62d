// Byte ranges of a snapshot file, fetching only the blobs that cover them. A file node lists its
// content blobs in order; each blob's plaintext size comes from the master index (the
// uncompressed length of a compressed blob, else its stored length less the encryption
// overhead), which places every blob in the file without loading any. The sizes must add up to
// the node's size: a snapshot whose index and tree disagree cannot be read by range.
import type { CallOptions } from '../backend/backend.ts';
import { ErrorCodes, SidestashError } from '../errors.ts';
import { CRYPTO_OVERHEAD } from './crypto.ts';
import type { Id } from './ids.ts';
import type { Repository } from './repository.ts';
import type { SnapshotFile } from './snapshot-reader.ts';

export interface BlobSpan {
  id: Id;
  /** Plaintext offsets of the blob in the file: [start, end). */
  start: number;
  end: number;
}

/** Where each content blob of a file lies, from the master index alone. */
export async function blobSpans(repo: Repository, file: SnapshotFile, options: CallOptions = {}): Promise<BlobSpan[]> {
  const index = await repo.index(options);
  const spans: BlobSpan[] = [];
  let at = 0;
  for (const id of file.node.content ?? []) {
    const loc = index.lookup('data', id);
    if (!loc) throw new SidestashError(ErrorCodes.MISSING_BLOB, `data blob ${id} of ${file.path} not found in index`, { details: { blobId: id } });
    const size = loc.uncompressedLength ?? loc.length - CRYPTO_OVERHEAD;
    spans.push({ id, start: at, end: at + size });
    at += size;
  }
  if (at !== file.sizeBytes) throw new SidestashError(ErrorCodes.CORRUPT_FILE, `${file.path}: its blobs hold ${at} bytes, its size is ${file.sizeBytes}`);
  return spans;
}

/** The first span that ends after `offset` (binary search). */
function firstSpan(spans: readonly BlobSpan[], offset: number): number {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid]!.end <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface RangeReaderOptions extends CallOptions {
  /** Blobs fetched ahead of the consumer. */
  prefetch?: number;
}

/**
 * Reads ranges of one file. Consecutive ranges that share a blob load it once (the last blob is
 * kept); `blobsLoaded` and `bytesLoaded` count what was fetched and decrypted.
 */
export class FileRangeReader {
  readonly #repo: Repository;
  readonly #spans: readonly BlobSpan[];
  readonly #options: RangeReaderOptions;
  #last: { index: number; blob: Promise<Buffer> } | undefined;
  blobsLoaded = 0;
  bytesLoaded = 0;

  constructor(repo: Repository, spans: readonly BlobSpan[], options: RangeReaderOptions = {}) {
    this.#repo = repo;
    this.#spans = spans;
    this.#options = options;
  }

  static async open(repo: Repository, file: SnapshotFile, options: RangeReaderOptions = {}): Promise<FileRangeReader> {
    return new FileRangeReader(repo, await blobSpans(repo, file, options), options);
  }

  get sizeBytes(): number {
    return this.#spans.length === 0 ? 0 : this.#spans[this.#spans.length - 1]!.end;
  }

  #load(i: number): Promise<Buffer> {
    if (this.#last?.index === i) return this.#last.blob;
    const span = this.#spans[i]!;
    const blob = this.#repo.loadBlob('data', span.id, this.#options.signal ? { signal: this.#options.signal } : {});
    blob.catch(() => {}); // surfaced when awaited
    this.blobsLoaded++;
    this.bytesLoaded += span.end - span.start;
    this.#last = { index: i, blob };
    return blob;
  }

  /** The bytes [start, end) of the file, blob by blob (slices of the blobs). */
  async *read(start: number, end: number): AsyncGenerator<Buffer> {
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end && end <= this.sizeBytes)) {
      throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `range [${start}, ${end}) is not inside the file's ${this.sizeBytes} bytes`);
    }
    if (start === end) return;
    const first = firstSpan(this.#spans, start);
    const last = firstSpan(this.#spans, end - 1);
    const prefetch = Math.max(1, this.#options.prefetch ?? 4);
    const ahead: Promise<Buffer>[] = [];
    let next = first;
    const fill = (): void => {
      while (ahead.length < prefetch && next <= last) ahead.push(this.#load(next++));
    };
    for (let i = first; i <= last; i++) {
      fill();
      const blob = await ahead.shift()!;
      const span = this.#spans[i]!;
      if (blob.length !== span.end - span.start) throw new SidestashError(ErrorCodes.CORRUPT_FILE, `data blob ${span.id}: ${blob.length} bytes, the index says ${span.end - span.start}`);
      yield blob.subarray(Math.max(0, start - span.start), Math.min(blob.length, end - span.start));
    }
  }
}
