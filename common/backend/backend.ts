// The small storage interface every repository backend implements (restic style).
// A backend knows nothing about encryption or the format: it stores named, immutable
// files by type. Implementations: local/ (directory), and, later, s3/ and rest/.

export const FILE_TYPES = ['config', 'keys', 'locks', 'snapshots', 'index', 'data'] as const;
export type FileType = (typeof FILE_TYPES)[number];

/** A file in the repository. `name` is ignored for the single `config` file. */
export interface FileHandle {
  type: FileType;
  name: string;
}

export interface FileInfo {
  name: string;
  sizeBytes: number;
}

export interface LoadOptions {
  /** Byte offset to start reading at. */
  offset?: number;
  /** Number of bytes to read; the rest of the file when absent. */
  length?: number;
  signal?: AbortSignal;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/**
 * Waits until `bytes` more of an upload's body may be sent (rate-limit.ts); rejects when the
 * signal aborts. `sliceBytes`: how much to ask for at a time (a fraction of a second at the
 * limit, so that a body never pauses long: servers close silent connections).
 */
export type BodyPacer = ((bytes: number, signal?: AbortSignal) => Promise<void>) & { sliceBytes?: number };

export interface SaveOptions extends CallOptions {
  /**
   * Paces the body as it goes out: a backend with `pacesUploads` sends it in slices, each
   * after pace() allows it (every try of a retried request again: those bytes cross the link).
   */
  pace?: BodyPacer;
}

export interface Backend {
  /** Where this backend stores data, for logs and errors (no secrets). */
  readonly location: string;
  /** Whether save() honours SaveOptions.pace (the network backends); otherwise a limiter pays for whole bodies up front. */
  readonly pacesUploads?: boolean;
  /** Creates whatever layout the backend needs before the first save (idempotent). */
  create(options?: CallOptions): Promise<void>;
  /**
   * Stores a file atomically: readers see either nothing or the whole file.
   * Files are immutable: saving a name that already exists fails with BACKEND_IO.
   */
  save(handle: FileHandle, data: Uint8Array, options?: SaveOptions): Promise<void>;
  /** Reads a file or a byte range of it. Missing file: BACKEND_NOT_FOUND. */
  load(handle: FileHandle, options?: LoadOptions): Promise<Uint8Array>;
  /** Size of a file. Missing file: BACKEND_NOT_FOUND. */
  stat(handle: FileHandle, options?: CallOptions): Promise<FileInfo>;
  /** All files of a type, in no particular order. */
  list(type: FileType, options?: CallOptions): AsyncIterable<FileInfo>;
  /** Removes a file; removing a missing file is not an error. */
  remove(handle: FileHandle, options?: CallOptions): Promise<void>;
  /**
   * Removes what saves that never finished left behind (a killed process's temporary files,
   * multipart uploads never completed nor aborted) once older than olderThanMs; returns how
   * many. prune calls it under its exclusive lock. Optional: backends without leftovers omit it.
   */
  removeLeftovers?(olderThanMs: number, options?: CallOptions): Promise<number>;
  close(): Promise<void>;
}
