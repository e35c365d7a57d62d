// Runs a MariaDB client program with bounded stderr capture and an exit promise, killed when
// the session's signal aborts.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface RunningProgram {
  child: ChildProcess;
  /** Resolves with the exit code (or the signal's name) once the program has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last few KiB the program wrote to stderr. */
  stderrTail(): string;
}

const STDERR_KEEP_BYTES = 8 * 1024;

/** env: variables added to the program's small environment (e.g. TZ). */
export function startProgram(path: string, args: string[], stdio: ['pipe' | 'ignore', 'pipe' | 'ignore'], signal: AbortSignal, env: Record<string, string> = {}): RunningProgram {
  const child = spawn(path, args, { stdio: [stdio[0], stdio[1], 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', ...env } });
  let tail = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    tail = (tail + d).slice(-STDERR_KEEP_BYTES);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (err) => {
      tail += `\n${err.message}`;
      resolve({ code: 127, signal: null });
    });
    child.once('close', (code, sig) => resolve({ code, signal: sig }));
  });
  const kill = (): void => {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  };
  if (signal.aborted) kill();
  else signal.addEventListener('abort', kill, { once: true });
  void exited.then(() => signal.removeEventListener('abort', kill));
  return { child, exited, stderrTail: () => tail.trim() };
}
