// The state database's files are private to the controller whatever the umask: the
// directory 0700, the database and its -wal and -shm files 0600. SQLite creates the -wal
// and -shm files with the database file's mode, so the database file is created (or
// tightened) 0600 before SQLite opens it, and all three are checked again once it has.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

export function databaseFiles(path: string): string[] {
  return [path, `${path}-wal`, `${path}-shm`];
}

const ownedByUs = (uid: number): boolean => typeof process.getuid !== 'function' || process.getuid() === uid;

/**
 * Creates the directory (0700) and the empty database file (0600), and tightens any of them
 * that exist with looser modes. Returns what it could not tighten (e.g. a volume root owned
 * by another user), for the caller to log.
 */
export function prepareDatabaseFiles(path: string): string[] {
  const problems: string[] = [];
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  tighten(dir, DIR_MODE, problems);
  if (!existsSync(path)) closeSync(openSync(path, 'a', FILE_MODE));
  tightenDatabaseFiles(path, problems);
  return problems;
}

/** Sets each existing database file to 0600 when it allows more. */
export function tightenDatabaseFiles(path: string, problems: string[] = []): string[] {
  for (const f of databaseFiles(path)) if (existsSync(f)) tighten(f, FILE_MODE, problems);
  return problems;
}

function tighten(path: string, mode: number, problems: string[]): void {
  const st = statSync(path);
  if ((st.mode & 0o777 & ~mode) === 0) return;
  if (!ownedByUs(st.uid)) {
    problems.push(`${path} has mode ${(st.mode & 0o777).toString(8)} and belongs to another user; cannot tighten it to ${mode.toString(8)}`);
    return;
  }
  try {
    chmodSync(path, mode);
  } catch (err) {
    problems.push(`${path}: cannot set mode ${mode.toString(8)}: ${(err as Error).message}`);
  }
}
