// Starts a test server program, waits until it answers, and stops it (SIGTERM, then waits).
import { spawn } from 'node:child_process';
import { freePort } from './mariadb.ts';
import { listensOn } from './port-owner.ts';

export interface ServerProcess {
  stop(): Promise<void>;
}

/**
 * Starts a server on a port picked for it, for programs that cannot bind port 0 and report it.
 * Ready means `ready` answers and the started process itself holds the port (not another test's
 * server that took it first); when the program exits during start-up (the port was taken between
 * picking and binding), it is started again on another port.
 */
export async function startServerOnFreePort(command: string, args: (port: number) => string[], ready: (port: number) => Promise<boolean>, what: string, attempts = 5): Promise<ServerProcess & { port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(command, args(port), { stdio: 'ignore' });
    let exited = false;
    const exit = new Promise<void>((resolve) => child.once('exit', () => {
      exited = true;
      resolve();
    }));
    child.once('error', () => (exited = true));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.pid !== undefined && !exited && (await ready(port).catch(() => false)) && (await listensOn(child.pid, port))) {
        return {
          port,
          async stop() {
            if (!exited) child.kill('SIGTERM');
            await exit;
          },
        };
      }
      if (exited) break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`${what} did not start within 20 s on port ${port}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (attempt >= attempts) throw new Error(`${what} did not start (exited during start-up ${attempts} times)`);
  }
}
