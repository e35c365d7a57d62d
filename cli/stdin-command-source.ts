// `repo backup --stdin-from-command -- COMMAND [ARG...]`, as restic >= 0.17 has it: the command's
// standard output is the snapshot's content, its standard input and error are the terminal's,
// and a command that cannot start, exits non-zero or is killed fails the backup before the
// writer stores a snapshot: the end of its output is held back until it has exited (a pipe,
// `mariadb-dump ... | sidestash repo backup`, stores whatever arrived, also the nothing a
// mariadb-dump that failed at once wrote). Aborting the signal stops the command (SIGTERM).
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { ErrorCodes, SidestashError } from '../common/errors.ts';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

/** Why the command's output must not be stored, or undefined when it exited 0. */
export function commandFailure(command: string, exit: Exit): SidestashError | undefined {
  if (exit.error) return new SidestashError(ErrorCodes.SUBPROCESS_FAILED, `--stdin-from-command: cannot run ${JSON.stringify(command)}: ${exit.error.message}; no snapshot was stored`);
  if (exit.code === 0 && exit.signal === null) return undefined;
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  return new SidestashError(ErrorCodes.SUBPROCESS_FAILED, `--stdin-from-command: ${JSON.stringify(command)} ${how}; no snapshot was stored`, { details: { exitCode: exit.code, ...(exit.signal ? { signal: exit.signal } : {}) } });
}

export function commandSource(argv: string[], signal: AbortSignal): Readable {
  const [command, ...args] = argv;
  if (!command) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, '--stdin-from-command needs the command after the options: sidestash repo backup --stdin-from-command -- COMMAND [ARG...]');
  const name: string = command;
  const child = spawn(name, args, { stdio: ['inherit', 'pipe', 'inherit'] });
  const exited = new Promise<Exit>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, sig) => resolve({ code, signal: sig }));
  });
  const stop = (): void => void child.kill('SIGTERM');
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  void exited.then(() => signal.removeEventListener('abort', stop));
  // The output, with its end held back until the command has exited: a failure then ends the
  // stream with an error instead, so the writer stores nothing. A command that cannot start
  // ends its output early on some runtimes (Deno: "Premature close"); its own failure is reported.
  async function* output(): AsyncGenerator<Buffer> {
    let readError: unknown;
    let readToEnd = false;
    try {
      for await (const chunk of child.stdout!) yield chunk as Buffer;
      readToEnd = true;
    } catch (err) {
      readError = err;
      readToEnd = true;
    } finally {
      // The writer stopped reading (an error, a cancel): the command stops too.
      if (!readToEnd && child.exitCode === null && child.signalCode === null) stop();
    }
    const failure = commandFailure(name, await exited);
    if (failure) throw failure;
    if (readError !== undefined) throw readError;
  }
  return Readable.from(output(), { objectMode: false, highWaterMark: 1024 * 1024 });
}
