// A restic-format repository (format versions 1 and 2 read, version 2 created): key files,
// config, unpacked files, the index, and authenticated blob reads. Writing blobs is in
// blob-saver.ts, snapshots in snapshot-writer.ts / snapshot-reader.ts.
import { randomBytes } from 'node:crypto';
import type { Backend, CallOptions, FileType } from '../backend/backend.ts';
import { ErrorCodes, SidestashError, isSidestashError, throwIfAborted } from '../errors.ts';
import { blobPlaceProblem } from './blob-location.ts';
import { openBlob } from './blob-open.ts';
import { randomMasterKey } from './crypto.ts';
import type { MasterKey } from './crypto.ts';
import { sha256Hex } from './ids.ts';
import type { Id } from './ids.ts';
import { DEFAULT_SCRYPT, createKeyFile, openKeyFile } from './key-file.ts';
import type { ScryptParams } from './key-file.ts';
import { MasterIndex } from './master-index.ts';
import type { BlobType } from './pack.ts';
import { parsePolynomial, randomPolynomial } from './polynomial.ts';
import { decodeUnpacked, encodeUnpacked } from './unpacked.ts';
import { mapConcurrent } from './concurrency.ts';

export interface RepositoryConfig {
  version: number;
  id: Id;
  chunkerPolynomial: bigint;
}

export interface InitOptions extends CallOptions {
  scrypt?: ScryptParams;
  /** The content-defined chunker's polynomial (default: a random irreducible one, as restic); tests pin it for reproducible cut points. */
  chunkerPolynomial?: bigint;
}

/** restic tries at most this many key files before giving up. */
const MAX_KEYS_TRIED = 20;
const LOAD_CONCURRENCY = 8;

export class Repository {
  readonly backend: Backend;
  readonly key: MasterKey;
  readonly config: RepositoryConfig;
  /** The key file (keys/<id>) the password opened: restic's "current" key. */
  readonly keyId: Id;
  #index: MasterIndex | undefined;

  private constructor(backend: Backend, key: MasterKey, config: RepositoryConfig, keyId: Id) {
    this.backend = backend;
    this.key = key;
    this.config = config;
    this.keyId = keyId;
  }

  get compression(): boolean {
    return this.config.version >= 2;
  }

  /** Creates a new, empty version 2 repository. REPOSITORY_EXISTS when a config is there already. */
  static async init(backend: Backend, password: string, options: InitOptions = {}): Promise<Repository> {
    for await (const _ of backend.list('config', options)) {
      throw new SidestashError(ErrorCodes.REPOSITORY_EXISTS, `${backend.location}: a repository already exists there`);
    }
    await backend.create(options);
    const key = randomMasterKey();
    const config: RepositoryConfig = { version: 2, id: randomBytes(32).toString('hex'), chunkerPolynomial: options.chunkerPolynomial ?? randomPolynomial() };
    const keyFile = await createKeyFile(password, key, options.scrypt ?? DEFAULT_SCRYPT);
    await backend.save({ type: 'keys', name: keyFile.id }, keyFile.bytes, options);
    const configJson = { version: config.version, id: config.id, chunker_polynomial: config.chunkerPolynomial.toString(16) };
    await backend.save({ type: 'config', name: 'config' }, encodeUnpacked(key, 'config', configJson, 2), options);
    return new Repository(backend, key, config, keyFile.id);
  }

  /** Opens an existing repository. NOT_A_REPOSITORY, WRONG_PASSWORD or UNSUPPORTED_REPOSITORY on failure. */
  static async open(backend: Backend, password: string, options: CallOptions = {}): Promise<Repository> {
    let configBytes: Uint8Array;
    try {
      configBytes = await backend.load({ type: 'config', name: 'config' }, options);
    } catch (err) {
      if (isSidestashError(err, ErrorCodes.BACKEND_NOT_FOUND)) {
        throw new SidestashError(ErrorCodes.NOT_A_REPOSITORY, `${backend.location}: no repository found (config file missing)`, { cause: err });
      }
      throw err;
    }
    const keyNames: string[] = [];
    for await (const f of backend.list('keys', options)) keyNames.push(f.name);
    if (keyNames.length === 0) {
      throw new SidestashError(ErrorCodes.NOT_A_REPOSITORY, `${backend.location}: no key files found`);
    }
    let key: MasterKey | undefined;
    let keyId = '';
    const skipped: string[] = [];
    for (const name of keyNames.sort().slice(0, MAX_KEYS_TRIED)) {
      throwIfAborted(options.signal);
      try {
        key = await openKeyFile(await backend.load({ type: 'keys', name }, options), password, name);
        keyId = name;
        break;
      } catch (err) {
        // A key file whose KDF or parameters we refuse (anyone who can write to the storage can
        // add one) is passed over like a key of another password, not a reason to stop looking.
        if (isSidestashError(err, ErrorCodes.UNSUPPORTED_REPOSITORY)) skipped.push(err.message);
        else if (!isSidestashError(err, ErrorCodes.WRONG_PASSWORD)) throw err;
      }
    }
    if (!key) throw new SidestashError(ErrorCodes.WRONG_PASSWORD, `wrong password or no key found${skipped.length > 0 ? ` (passed over: ${skipped.join('; ')})` : ''}`);
    const json = decodeUnpacked(key, 'config', 'config', configBytes) as { version?: unknown; id?: unknown; chunker_polynomial?: unknown };
    if (json.version !== 1 && json.version !== 2) {
      throw new SidestashError(ErrorCodes.UNSUPPORTED_REPOSITORY, `repository format version ${String(json.version)} is not supported`);
    }
    if (typeof json.id !== 'string') throw new SidestashError(ErrorCodes.CORRUPT_FILE, 'config: missing id');
    return new Repository(backend, key, { version: json.version, id: json.id, chunkerPolynomial: parsePolynomial(json.chunker_polynomial) }, keyId);
  }

  /** Encrypts (and compresses) a JSON document and stores it under the hash of its bytes. */
  async saveJson(type: Exclude<FileType, 'config' | 'keys' | 'data'>, json: unknown, options: CallOptions = {}): Promise<Id> {
    const bytes = encodeUnpacked(this.key, type, json, this.config.version);
    const id = sha256Hex(bytes);
    await this.backend.save({ type, name: id }, bytes, options);
    return id;
  }

  async loadJson(type: Exclude<FileType, 'config' | 'keys' | 'data'>, id: Id, options: CallOptions = {}): Promise<unknown> {
    return decodeUnpacked(this.key, type, id, await this.backend.load({ type, name: id }, options));
  }

  async listIds(type: FileType, options: CallOptions = {}): Promise<Id[]> {
    const ids: Id[] = [];
    for await (const f of this.backend.list(type, options)) ids.push(f.name);
    return ids.sort();
  }

  /** The index of all index files, loaded once and then kept current by this process's writes. */
  async index(options: CallOptions = {}): Promise<MasterIndex> {
    if (this.#index) return this.#index;
    const index = new MasterIndex();
    const ids = await this.listIds('index', options);
    const files = await mapConcurrent(ids, LOAD_CONCURRENCY, async (id) => [id, await this.loadJson('index', id, options)] as const);
    for (const [id, json] of files) index.addFile(id, json);
    this.#index = index;
    return index;
  }

  /**
   * The index as the repository holds it now; call it under a lock, before deduplicating against
   * it. The cached one may be older than the lock (the agent reads the previous snapshot first),
   * and a prune since may have removed packs it names: when an index file it was built from is
   * gone, or it holds packs of this process's own writes (which no listing vouches for), it is
   * read again; otherwise the index files written since are added to it.
   */
  async currentIndex(options: CallOptions = {}): Promise<MasterIndex> {
    const cached = this.#index;
    if (!cached) return this.index(options);
    const present = await this.listIds('index', options);
    const there = new Set(present);
    if (cached.addedPacks > 0 || [...cached.files].some((id) => !there.has(id))) {
      this.dropIndexCache();
      return this.index(options);
    }
    const added = present.filter((id) => !cached.files.has(id));
    const files = await mapConcurrent(added, LOAD_CONCURRENCY, async (id) => [id, await this.loadJson('index', id, options)] as const);
    for (const [id, json] of files) cached.addFile(id, json);
    return cached;
  }

  /** Forgets the cached index (after prune rewrote the index files). */
  dropIndexCache(): void {
    this.#index = undefined;
  }

  /** Loads, authenticates, decompresses and verifies one blob. */
  async loadBlob(type: BlobType, id: Id, options: CallOptions = {}): Promise<Buffer> {
    const index = await this.index(options);
    const loc = index.lookup(type, id);
    if (!loc) throw new SidestashError(ErrorCodes.MISSING_BLOB, `${type} blob ${id} not found in index`, { details: { blobId: id } });
    const problem = blobPlaceProblem(loc);
    if (problem) throw new SidestashError(ErrorCodes.CORRUPT_PACK, `${type} blob ${id} in pack ${loc.packId}: ${problem}`, { details: { packId: loc.packId, blobId: id } });
    const sealed = await this.backend.load({ type: 'data', name: loc.packId }, { offset: loc.offset, length: loc.length, ...signalOf(options) });
    return openBlob(this.key, { id, type, packId: loc.packId, uncompressedLength: loc.uncompressedLength }, sealed);
  }
}

export function signalOf(options: CallOptions): CallOptions {
  return options.signal ? { signal: options.signal } : {};
}
