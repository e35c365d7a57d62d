// Starts a test server program, waits until it answers, and stops it (SIGTERM, then waits).
import { spawn } from 'node:child_process';

export interface ServerProcess {
  stop(): Promise<void>;
}

/** `ready` is polled (errors count as not ready) until true, the program exits, or 20 s pass. */
export async function startServerProcess(command: string, args: string[], ready: () => Promise<boolean>, what: string): Promise<ServerProcess> {
  const child = spawn(command, args, { stdio: 'ignore' });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    resolve();
  }));
  child.once('error', () => (exited = true));
  const deadline = Date.now() + 20_000;
  while (!(await ready().catch(() => false))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${what} did not start`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    async stop() {
      if (!exited) child.kill('SIGTERM');
      await exit;
    },
  };
}
