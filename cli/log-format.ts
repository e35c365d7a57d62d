// The CLI's global --log-format json|text (anywhere before a "--"): how errors reach stderr.
// Without it: plain text on a terminal, JSON lines otherwise (pipes, files, log collectors).
import { ErrorCodes, SidestashError } from '../common/errors.ts';

export type LogFormat = 'json' | 'text';

export function extractLogFormat(argv: string[]): { argv: string[]; logFormat: LogFormat | undefined } {
  const rest: string[] = [];
  let logFormat: LogFormat | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    let value: string | undefined;
    if (a === '--log-format') value = argv[++i] ?? '';
    else if (a.startsWith('--log-format=')) value = a.slice('--log-format='.length);
    else {
      rest.push(a);
      continue;
    }
    if (value !== 'json' && value !== 'text') throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `--log-format must be json or text, not ${JSON.stringify(value)}`);
    logFormat = value;
  }
  return { argv: rest, logFormat };
}

export function chooseLogFormat(flag: LogFormat | undefined, stderrIsTerminal: boolean): LogFormat {
  return flag ?? (stderrIsTerminal ? 'text' : 'json');
}
