// A real restic REST server for tests: `rclone serve restic` (Debian's rclone) over a
// temporary directory, with basic auth.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerOnFreePort } from './server-process.ts';

export interface RestServer {
  url: string;
  username: string;
  password: string;
  dir: string;
  stop(): Promise<void>;
}

export async function startRestServer(): Promise<RestServer> {
  const dir = await mkdtemp(join(process.env.SIDESTASH_TEST_TMP ?? tmpdir(), 'sidestash-rest-'));
  const username = 'restic';
  const password = 'rest-test-password';
  const proc = await startServerOnFreePort('rclone', (port) => ['serve', 'restic', '--addr', `127.0.0.1:${port}`, '--user', username, '--pass', password, dir], async (port) => (await fetch(`http://127.0.0.1:${port}/`)) !== undefined, 'rclone serve restic');
  const url = `http://127.0.0.1:${proc.port}`;
  return {
    url, username, password, dir,
    async stop() {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
