// The policy for the sidestash.io/socket-dir annotation: the directory the injector mounts a
// shared volume at, in the database container and the agent. The annotation is untrusted (any
// user who can create a pod writes it), and an emptyDir mounted over /etc or /usr hides the
// image's files, over /proc or /dev breaks the container, over /var/run/secrets hides the
// ServiceAccount token. So: an allow-list of characters, absolute and normalised, and never a
// system directory (common/system-paths.ts, shared with repository paths).
import { posix } from 'node:path';
import { OS_TREES, treeHolding } from '../../common/system-paths.ts';

/** Directories that are never a socket directory, nor is anything below them. */
const SYSTEM_TREES = [...OS_TREES, '/run/secrets', '/var/run/secrets'];
/** Directories that are not a socket directory themselves (their subdirectories may be). */
const SYSTEM_DIRS = ['/', '/home', '/media', '/mnt', '/opt', '/root', '/run', '/srv', '/var', '/var/lib', '/var/log', '/var/run'];
const SAFE_CHARS = /^[A-Za-z0-9._/-]+$/;
const MAX_LENGTH = 255;

/** Why `dir` is not an acceptable socket directory, or undefined when it is. */
export function socketDirProblem(dir: string): string | undefined {
  if (dir.length === 0 || dir.length > MAX_LENGTH) return `must be 1 to ${MAX_LENGTH} characters`;
  if (!SAFE_CHARS.test(dir)) return 'may hold only letters, digits, ".", "_", "-" and "/"';
  if (!dir.startsWith('/')) return 'must be an absolute path';
  if (posix.normalize(dir) !== dir || (dir.length > 1 && dir.endsWith('/'))) return `must be normalised (no ".", "..", "//" or trailing "/"), e.g. ${JSON.stringify(posix.normalize(dir).replace(/(.)\/+$/, '$1'))}`;
  if (SYSTEM_DIRS.includes(dir) || treeHolding(dir, SYSTEM_TREES) !== undefined) return `${dir} is a system directory; use a directory of its own such as /run/mysqld`;
  return undefined;
}

/** A mount path compared the way the kubelet does: without trailing slashes, normalised. */
export function sameMountPath(a: string, b: string): boolean {
  const norm = (p: string): string => posix.normalize(p).replace(/(.)\/+$/, '$1');
  return norm(a) === norm(b);
}
