// Dispatches `sidestash COMMAND ...`.
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import { repoCommand } from './repo-command.ts';

export const USAGE = `usage: sidestash COMMAND
  repo ...        work on a repository directly (init, backup, dump, snapshots, forget, prune, check, unlock)
run "sidestash COMMAND --help" for a command's options`;

export async function main(argv: string[], signal: AbortSignal): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'repo':
      return repoCommand(rest, signal);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `unknown command ${JSON.stringify(command)}\n${USAGE}`);
  }
}
