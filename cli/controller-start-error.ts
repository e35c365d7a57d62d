// A file the controller cannot create or open while it starts (its state directory under
// /var/lib not writable by the user running it, a path through a regular file, a read-only
// volume) as a configuration error with a code and the variable to change, instead of a bare
// "EACCES: permission denied, mkdir ..." without one.
import { dirname, relative, resolve } from 'node:path';
import { ErrorCodes, SidestashError, isSidestashError } from '../common/errors.ts';

const FILE_ERRNOS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EISDIR', 'ENOENT', 'EEXIST', 'ELOOP', 'ENAMETOOLONG', 'ENOSPC', 'EDQUOT']);

/** Whether `path` is the state directory, inside it, or one of the directories above it. */
function underOrAbove(path: string, dir: string): boolean {
  const down = relative(dir, path);
  const up = relative(path, dir);
  return !down.startsWith('..') || !up.startsWith('..');
}

/**
 * The error to report for `err`, thrown while the controller opened its state: a file-system
 * error with a path becomes SIDESTASH_INVALID_CONFIG naming SIDESTASH_DB when the path is its
 * directory (or on the way to it, or a file beside the database); other errors pass unchanged.
 */
export function controllerStartError(err: unknown, databasePath: string, uid: number | undefined): unknown {
  if (isSidestashError(err) || err === null || typeof err !== 'object') return err;
  const e = err as { code?: unknown; path?: unknown; syscall?: unknown; message?: unknown };
  if (typeof e.code !== 'string' || !FILE_ERRNOS.has(e.code) || typeof e.path !== 'string') return err;
  const what = `cannot ${typeof e.syscall === 'string' ? e.syscall : 'open'} ${e.path} (${e.code})`;
  const stateDir = dirname(resolve(databasePath));
  const user = uid === undefined ? 'the user running the controller' : `the user running the controller (uid ${uid})`;
  const message = underOrAbove(resolve(e.path), stateDir)
    ? `SIDESTASH_DB=${databasePath}: ${what}; the database's directory, ${stateDir}, holds the database, the encryption key and the generated certificates and must be one that ${user} may create and write`
    : `the controller ${what}`;
  return new SidestashError(ErrorCodes.INVALID_CONFIG, message, { cause: err, details: { errno: e.code, path: e.path } });
}
