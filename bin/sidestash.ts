#!/usr/bin/env node
// The sidestash command line. An error ends it with one report on stderr (plain text on a
// terminal, a JSON line otherwise; --log-format json|text chooses) and the exit status of
// cli/exit-codes.ts. A reader that closes standard output early (`| head`) ends it quietly, with 0.
import { isBrokenPipe, watchStdoutClosed } from '../cli/broken-pipe.ts';
import { main } from '../cli/main.ts';
import { exitCodeFor } from '../cli/exit-codes.ts';
import { chooseLogFormat, extractLogFormat } from '../cli/log-format.ts';
import type { LogFormat } from '../cli/log-format.ts';
import { reportError } from '../cli/report-error.ts';

// restic decides whether a lock's holder on this host still lives by sending it SIGHUP, and
// ignores SIGHUP itself; so does every sidestash process (CLI, agent, controller), or a
// `restic unlock` would kill a running backup. Handling the signal replaces the default
// action (terminate); a closed terminal still ends an interactive command through EPIPE.
process.on('SIGHUP', () => {});
const ac = new AbortController();
let interrupted: 'SIGINT' | 'SIGTERM' | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    interrupted ??= sig;
    ac.abort(new Error(`received ${sig}`));
  });
}
const stdout = watchStdoutClosed(process.stdout, () => ac.abort(new Error('standard output closed')));
let argv = process.argv.slice(2);
let logFormat: LogFormat | undefined;
try {
  ({ argv, logFormat } = extractLogFormat(argv));
  process.exitCode = await main(argv, ac.signal);
} catch (err) {
  // `... | head`: the reader has what it wanted; the command stopped because of that, quietly.
  if (stdout.closed() || isBrokenPipe(err)) {
    process.exitCode = 0;
  } else {
    reportError(err, chooseLogFormat(logFormat, process.stderr.isTTY === true));
    process.exitCode = exitCodeFor(err, { repoCommand: argv[0] === 'repo', interrupted });
  }
}
// An interrupted command has released what it held (its finally blocks ran): it ends now, even
// where an open standard input would keep the runtime alive (Deno reads it until end of file).
if (interrupted) process.exit();
