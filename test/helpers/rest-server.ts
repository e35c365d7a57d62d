// A real restic REST server for tests: `rclone serve restic` (Debian's rclone) over a
// temporary directory, with basic auth.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './mariadb.ts';

export interface RestServer {
  url: string;
  username: string;
  password: string;
  dir: string;
  stop(): Promise<void>;
}

export async function startRestServer(): Promise<RestServer> {
  const dir = await mkdtemp(join(process.env.SIDESTASH_TEST_TMP ?? tmpdir(), 'sidestash-rest-'));
  const port = await freePort();
  const username = 'restic';
  const password = 'rest-test-password';
  const child = spawn('rclone', ['serve', 'restic', '--addr', `127.0.0.1:${port}`, '--user', username, '--pass', password, dir], { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await fetch(`${url}/`);
      break;
    } catch {
      if (exited || Date.now() > deadline) throw new Error('rclone serve restic did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url, username, password, dir,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
