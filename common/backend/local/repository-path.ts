// Where an API user may put a local repository (Repository spec.backend.local.path). The agent
// writes config, keys/, data/, index/, snapshots/ and locks/ there, and retention deletes from
// it, on the database host, so the path must be plain and must not be a system location:
// - absolute and normalised: no `.` or `..` segments, no `//`, no trailing `/`;
// - plain segments (letters, digits and . _ - + @ = , :, none starting with `.`), so neither
//   hidden directories (~/.ssh, where the repository's `config` file would land) nor
//   control characters;
// - not inside a system tree: /proc, /sys, /dev (kernel and devices), /etc (configuration),
//   /boot, /usr, /bin, /sbin, /lib* (programs and libraries), /run and /var/run (runtime state,
//   the database's socket), /root (root's home), /var/lib/mysql (MariaDB's data directory: every
//   directory there is a database);
// - not one of the directories that hold others: /, /home, /mnt, /media, /opt, /srv, /tmp,
//   /var, /var/lib, /var/tmp (a subdirectory of them is fine, e.g. /srv/backups or /tmp/repo).
// The CLI takes any path: its user chooses locations on their own machine.
import { posix } from 'node:path';
import { ErrorCodes, SidestashError } from '../../errors.ts';
import { OS_TREES, treeHolding } from '../../system-paths.ts';

const SYSTEM_TREES = [...OS_TREES, '/run', '/var/run', '/root', '/var/lib/mysql'];
const PARENT_DIRECTORIES = ['/', '/home', '/mnt', '/media', '/opt', '/srv', '/tmp', '/var', '/var/lib', '/var/tmp'];
const SEGMENT = /^[A-Za-z0-9_+@=,:-][A-Za-z0-9._+@=,:-]*$/;

/** Why a local repository path is refused, or undefined when it is allowed. */
export function localRepositoryPathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path';
  if (path.length > 1024) return 'must be at most 1024 characters';
  const segments = path.split('/').slice(1);
  if (segments.includes('..') || segments.includes('.')) return 'must not contain "." or ".." segments';
  if (path !== '/' && (posix.normalize(path) !== path || path.endsWith('/'))) return `must be normalised (${JSON.stringify(posix.normalize(path).replace(/(.)\/$/, '$1'))})`;
  const tree = treeHolding(path, SYSTEM_TREES);
  if (tree) return `must not be inside the system directory ${tree}`;
  if (PARENT_DIRECTORIES.includes(path)) return `must not be ${path} itself: use a directory inside it`;
  const bad = segments.find((s) => !SEGMENT.test(s));
  if (bad !== undefined) return `has the segment ${JSON.stringify(bad)}: use letters, digits and . _ - + @ = , : (not first: .)`;
  return undefined;
}

/** Throws INVALID_CONFIG when a repository location names a refused local path (s3:/rest: pass). */
export function assertSafeRepositoryLocation(location: string): void {
  if (/^(s3|rest):/.test(location)) return;
  const path = location.startsWith('local:') ? location.slice('local:'.length) : location;
  const problem = localRepositoryPathProblem(path);
  if (problem) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `local repository path ${JSON.stringify(path)} ${problem}`);
}
