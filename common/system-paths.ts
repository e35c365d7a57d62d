// The operating system's own directories, which no path an untrusted user names may point into
// (a repository the agent writes and deletes in, a volume the webhook mounts over): kernel and
// device files, configuration, programs and libraries. Each policy adds its own (the socket
// directory may be under /run, a repository may not).
export const OS_TREES: readonly string[] = ['/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/sbin', '/sys', '/usr'];

/** The first of `trees` that `path` is or lies inside, or undefined. */
export function treeHolding(path: string, trees: readonly string[]): string | undefined {
  return trees.find((t) => path === t || path.startsWith(`${t}/`));
}
