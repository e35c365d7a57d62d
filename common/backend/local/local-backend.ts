// Local-directory backend, in restic's "default" layout so that `restic -r DIR` reads it:
// config, keys/, locks/, snapshots/, index/, data/00..ff/. Files are written to a
// temporary name, fsynced and renamed, so a crash never leaves a partial file under a real name.
// Permissions as restic's (backend/util.DeriveModesFromFileInfo): files 0400 and directories
// 0700, or, when the config file is group-readable (an administrator's chmod g+r, for a backup
// reader group), files 0440 and directories 0770 less the umask; decided once per backend.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, SidestashError, throwIfAborted } from '../../errors.ts';
import { FILE_TYPES } from '../backend.ts';
import type { Backend, CallOptions, FileHandle, FileInfo, FileType, LoadOptions } from '../backend.ts';

interface Modes {
  dir: number;
  file: number;
}

const DEFAULT_MODES: Modes = { dir: 0o700, file: 0o600 };
const GROUP_MODES: Modes = { dir: 0o770, file: 0o660 };

/** restic's rule: group-readable config, group-readable repository. */
export function deriveModes(configMode: number | undefined): Modes {
  return configMode !== undefined && (configMode & 0o040) !== 0 ? GROUP_MODES : DEFAULT_MODES;
}

export class LocalBackend implements Backend {
  readonly location: string;
  readonly #root: string;
  #modes: Promise<Modes> | undefined;

  constructor(root: string) {
    this.#root = root;
    this.location = `local:${root}`;
  }

  #getModes(): Promise<Modes> {
    this.#modes ??= stat(join(this.#root, 'config')).then(
      (st) => deriveModes(st.mode),
      () => DEFAULT_MODES,
    );
    return this.#modes;
  }

  async create(): Promise<void> {
    const { dir: dirMode } = await this.#getModes();
    for (const type of FILE_TYPES) {
      if (type === 'config') continue;
      await mkdir(join(this.#root, type), { recursive: true, mode: dirMode });
    }
    for (let i = 0; i < 256; i++) {
      await mkdir(join(this.#root, 'data', i.toString(16).padStart(2, '0')), { recursive: true, mode: dirMode });
    }
  }

  #path(handle: FileHandle): string {
    if (handle.type === 'config') return join(this.#root, 'config');
    if (!/^[0-9a-zA-Z._-]+$/.test(handle.name)) {
      throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `invalid file name ${JSON.stringify(handle.name)}`);
    }
    if (handle.type === 'data') return join(this.#root, 'data', handle.name.slice(0, 2), handle.name);
    return join(this.#root, handle.type, handle.name);
  }

  async save(handle: FileHandle, data: Uint8Array, options: CallOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    const path = this.#path(handle);
    const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      await stat(path).then(
        () => { throw new SidestashError(ErrorCodes.BACKEND_IO, `${handle.type}/${handle.name} already exists`); },
        (err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err; },
      );
      const modes = await this.#getModes();
      if (handle.type === 'data') await mkdir(join(this.#root, 'data', handle.name.slice(0, 2)), { recursive: true, mode: modes.dir });
      const file = await open(tmp, 'wx', 0o600);
      try {
        await file.writeFile(data);
        await file.sync();
        // read-only, as restic marks its files (not subject to the umask)
        await file.chmod(modes.file & ~0o222);
      } finally {
        await file.close();
      }
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw wrapIoError(err, handle);
    }
  }

  async load(handle: FileHandle, options: LoadOptions = {}): Promise<Uint8Array> {
    throwIfAborted(options.signal);
    const offset = options.offset ?? 0;
    let file;
    try {
      file = await open(this.#path(handle), 'r');
    } catch (err) {
      throw wrapIoError(err, handle);
    }
    try {
      const sizeBytes = (await file.stat()).size;
      const length = options.length ?? Math.max(0, sizeBytes - offset);
      if (offset + length > sizeBytes) {
        throw new SidestashError(ErrorCodes.BACKEND_IO, `${handle.type}/${handle.name}: range ${offset}+${length} beyond size ${sizeBytes}`);
      }
      const buf = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await file.read(buf, done, length - done, offset + done);
        if (bytesRead === 0) throw new SidestashError(ErrorCodes.BACKEND_IO, `${handle.type}/${handle.name}: short read`);
        done += bytesRead;
      }
      return buf;
    } catch (err) {
      throw wrapIoError(err, handle);
    } finally {
      await file.close();
    }
  }

  async stat(handle: FileHandle): Promise<FileInfo> {
    try {
      const st = await stat(this.#path(handle));
      return { name: handle.name, sizeBytes: st.size };
    } catch (err) {
      throw wrapIoError(err, handle);
    }
  }

  async *list(type: FileType, options: CallOptions = {}): AsyncIterable<FileInfo> {
    if (type === 'config') {
      try {
        const st = await stat(join(this.#root, 'config'));
        yield { name: 'config', sizeBytes: st.size };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw wrapIoError(err, { type, name: '' });
      }
      return;
    }
    const dirs = type === 'data' ? (await readdirOrEmpty(join(this.#root, 'data'))).map((d) => join('data', d)) : [type];
    for (const dir of dirs) {
      for (const name of await readdirOrEmpty(join(this.#root, dir))) {
        throwIfAborted(options.signal);
        if (name.includes('.tmp-')) continue;
        try {
          const st = await stat(join(this.#root, dir, name));
          if (st.isFile()) yield { name, sizeBytes: st.size };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw wrapIoError(err, { type, name });
        }
      }
    }
  }

  async remove(handle: FileHandle): Promise<void> {
    try {
      await unlink(this.#path(handle));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw wrapIoError(err, handle);
    }
  }

  async removeLeftovers(olderThanMs: number, options: CallOptions = {}): Promise<number> {
    const dirs = ['', ...FILE_TYPES.filter((t) => t !== 'config' && t !== 'data'), ...(await readdirOrEmpty(join(this.#root, 'data'))).map((d) => join('data', d))];
    const before = Date.now() - olderThanMs;
    let removed = 0;
    for (const dir of dirs) {
      for (const name of await readdirOrEmpty(join(this.#root, dir))) {
        throwIfAborted(options.signal);
        if (!/^[0-9a-zA-Z._-]+\.tmp-[0-9a-f]{12}$/.test(name)) continue;
        const path = join(this.#root, dir, name);
        try {
          if ((await stat(path)).mtimeMs >= before) continue;
          await unlink(path);
          removed++;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw wrapIoError(err, { type: 'data', name });
        }
      }
    }
    return removed;
  }

  async close(): Promise<void> {}
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

function wrapIoError(err: unknown, handle: FileHandle): unknown {
  if (err instanceof SidestashError) return err;
  const errno = (err as NodeJS.ErrnoException).code;
  if (errno === 'ENOENT') {
    return new SidestashError(ErrorCodes.BACKEND_NOT_FOUND, `${handle.type}/${handle.name} not found`, { cause: err });
  }
  const retryable = errno === 'EAGAIN' || errno === 'EBUSY' || errno === 'EMFILE' || errno === 'ENFILE';
  // ENOSPC, EDQUOT, EROFS, EACCES: not retryable; the errno is kept for callers and logs.
  return new SidestashError(ErrorCodes.BACKEND_IO, `${handle.type}/${handle.name}: ${(err as Error).message}`, { cause: err, retryable, ...(errno ? { details: { errno } } : {}) });
}
