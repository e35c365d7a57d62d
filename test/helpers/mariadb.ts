// A throwaway MariaDB for tests: mariadb-install-db into a temporary datadir, mariadbd on a
// free loopback port and its own socket, stopped by pid (SIGTERM, then SIGKILL) afterwards.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface MariaDB {
  port: number;
  socket: string;
  dir: string;
  /** Runs SQL as root over the socket; returns tab-separated output. */
  sql(statements: string, database?: string): Promise<string>;
  /** Stops mariadbd (crash: SIGKILL, as a power loss) and starts it again on the same data directory and socket. */
  restart(options?: { crash?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `serverArgs` are added to mariadbd's command line (e.g. --max-allowed-packet=256M). */
export async function startMariaDB(options: { bufferPoolBytes?: number; serverArgs?: string[] } = {}): Promise<MariaDB> {
  const dir = await mkdtemp(join(process.env.SIDESTASH_TEST_TMP ?? tmpdir(), 'sidestash-mariadb-'));
  const datadir = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const pidFile = join(dir, 'mysqld.pid');
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  // Its own temporary directory: servers bootstrapping side by side in a shared /tmp have lost
  // each other's temporary tables ("Could not remove temporary table ... error: 2").
  const tmp = join(dir, 'tmp');
  await mkdir(tmp);
  await execFileAsync('mariadb-install-db', ['--no-defaults', ...asRoot, `--datadir=${datadir}`, `--tmpdir=${tmp}`, '--auth-root-authentication-method=normal', '--skip-test-db'], { maxBuffer: 16 * 1024 * 1024 });
  const sql = async (statements: string, database?: string): Promise<string> => {
    const { stdout } = await execFileAsync('mariadb', ['--no-defaults', '-uroot', `--socket=${socket}`, '-N', '-B', ...(database ? [database] : []), '-e', statements], { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  };
  const mariadbd = process.env.MARIADBD ?? (await which(['mariadbd', '/usr/sbin/mariadbd']));
  const errorLog = join(dir, 'error.log');
  // mariadbd cannot bind port 0 and report it: a port picked here may be taken by another test's
  // server before mariadbd binds it; mariadbd then exits ("Address already in use") and is
  // started again on another port. Ready is a ping over its own socket, so never another server.
  let port = 0;
  let exited = false;
  /** Starts mariadbd on the data directory (again, after a restart) and waits until it answers. */
  const launch = async (): Promise<ChildProcess> => {
    let child: ChildProcess | undefined;
    for (let attempt = 1; !child; attempt++) {
      port = await freePort();
      const logStart = await stat(errorLog).then((st) => st.size, () => 0);
      const started = spawn(
        mariadbd,
        ['--no-defaults', ...asRoot, `--datadir=${datadir}`, `--tmpdir=${tmp}`, `--port=${port}`, '--bind-address=127.0.0.1', `--socket=${socket}`, `--pid-file=${pidFile}`, `--log-error=${errorLog}`, `--innodb-buffer-pool-size=${options.bufferPoolBytes ?? 256 * 1024 * 1024}`, '--skip-log-bin', '--innodb-log-file-size=64M', ...(options.serverArgs ?? [])],
        { stdio: 'ignore', detached: false },
      );
      exited = false;
      const exit = new Promise<void>((resolve) => started.once('exit', () => resolve()));
      started.once('exit', () => (exited = true));
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (exited) {
          await exit;
          const log = (await readFile(errorLog).catch(() => Buffer.alloc(0))).subarray(logStart).toString('utf8');
          if (/already in use|Bind on TCP\/IP port/i.test(log) && attempt < 5) break;
          throw new Error(`mariadbd exited during start-up; see ${errorLog}: ${log}`);
        }
        try {
          await execFileAsync('mariadb-admin', ['--no-defaults', '-uroot', `--socket=${socket}`, 'ping']);
          child = started;
          break;
        } catch {
          if (Date.now() > deadline) throw new Error(`mariadbd did not start within 60 s; see ${errorLog}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
    return child;
  };
  let server = await launch();
  const end = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    const pid = server.pid;
    if (pid !== undefined && !exited) {
      server.kill(signal);
      const until = Date.now() + 30_000;
      while (!exited && processAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      if (!exited && processAlive(pid)) server.kill('SIGKILL');
      while (!exited && processAlive(pid)) await new Promise((r) => setTimeout(r, 20));
    }
  };
  return {
    get port() {
      return port;
    },
    socket,
    dir,
    sql,
    async restart(options = {}) {
      await end(options.crash ? 'SIGKILL' : 'SIGTERM');
      server = await launch();
    },
    async stop() {
      await end('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function which(candidates: string[]): Promise<string> {
  for (const c of candidates) {
    try {
      if (c.startsWith('/')) {
        await readFile(c).then(() => undefined, () => { throw new Error('missing'); });
        return c;
      }
      const { stdout } = await execFileAsync('sh', ['-c', `command -v ${c}`]);
      if (stdout.trim()) return stdout.trim();
    } catch {
      // try the next one
    }
  }
  throw new Error(`none of ${candidates.join(', ')} found; run scripts/setup.sh`);
}
