// Which process listens on a loopback TCP port (Linux /proc): lets a test helper that had to pick
// a port for a server (one that cannot be told to bind port 0 and report it) confirm that its
// own process got the port, rather than trusting a probe another server could have answered.
import { readFile, readdir, readlink } from 'node:fs/promises';

const LISTEN = '0A';

/** Socket inodes listening on `port` (IPv4 or IPv6). */
async function listeningInodes(port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== LISTEN) continue;
      if (Number.parseInt(f[1]!.split(':')[1]!, 16) === port) inodes.add(f[9]!);
    }
  }
  return inodes;
}

/** Whether process `pid` holds a socket listening on `port`. */
export async function listensOn(pid: number, port: number): Promise<boolean> {
  const inodes = await listeningInodes(port);
  if (inodes.size === 0) return false;
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''));
    if (m && inodes.has(m[1]!)) return true;
  }
  return false;
}
