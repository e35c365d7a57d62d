// Usage errors of the command line (exit status 2): node:util parseArgs's errors turned into
// short messages with a "did you mean" for a mistyped option, and a pointer to --help.
import { didYouMean } from '../common/did-you-mean.ts';
import { ErrorCodes, SidestashError } from '../common/errors.ts';

export function usageError(message: string, helpCommand: string): SidestashError {
  return new SidestashError(ErrorCodes.INVALID_ARGUMENT, `${message}\nrun "${helpCommand} --help" for usage`);
}

/** The option names parseArgs knows (--long and -s), for suggestions. */
export function optionNames(options: Record<string, { type: string; short?: string }>): string[] {
  return Object.entries(options).flatMap(([long, o]) => [`--${long}`, ...(o.short ? [`-${o.short}`] : [])]);
}

/** A parseArgs error as a usage error; other errors pass through unchanged. */
export function fromParseArgsError(err: unknown, known: string[], helpCommand: string): unknown {
  const code = (err as { code?: unknown }).code;
  const message = (err as Error).message ?? String(err);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const opt = /'(-[^']*)'/.exec(message)?.[1] ?? '';
    const name = opt.split('=')[0]!;
    return usageError(`unknown option ${name}${didYouMean(name, known)}`, helpCommand);
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    // e.g. "Option '--keep-last <value>' argument missing"
    return usageError(message.replace(/^Option '([^']*)' argument missing$/, 'option $1 needs a value'), helpCommand);
  }
  return err;
}

/** Whether argv asks for help (-h or --help before a "--"). */
export function wantsHelp(argv: string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}
