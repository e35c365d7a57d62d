#!/usr/bin/env node
// The sidestash command line. Errors: one JSON line on stderr with the error's code.
import { isSidestashError } from '../common/errors.ts';
import { createLogger } from '../common/log.ts';
import { main } from '../cli/main.ts';

// restic decides whether a lock's holder on this host still lives by sending it SIGHUP, and
// ignores SIGHUP itself; so does every sidestash process (CLI, agent, controller), or a
// `restic unlock` would kill a running backup. Handling the signal replaces the default
// action (terminate); a closed terminal still ends an interactive command through EPIPE.
process.on('SIGHUP', () => {});
const ac = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => ac.abort(new Error(`received ${sig}`)));
try {
  process.exitCode = await main(process.argv.slice(2), ac.signal);
} catch (err) {
  const log = createLogger({ component: 'cli' });
  log.error(err instanceof Error ? err.message : String(err), isSidestashError(err) ? { code: err.code, retryable: err.retryable } : {});
  process.exitCode = isSidestashError(err) && err.code === 'SIDESTASH_INVALID_ARGUMENT' ? 2 : 1;
}
