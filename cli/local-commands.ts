// What the CLI answers by itself, before any token, server or repository is looked at:
// help (`help [COMMAND [SUB]]`, `COMMAND [SUB] --help`, `-h`), `version` / `--version`,
// `completion bash|zsh`, and the refusal of an unknown command (with "did you mean").
import { didYouMean } from '../common/did-you-mean.ts';
import { SIDESTASH_VERSION } from '../common/version.ts';
import { COMMAND_ALIASES, COMMAND_NAMES, commandUsage } from './command-help.ts';
import { completionScript } from './completion.ts';
import { usageError, wantsHelp } from './usage-error.ts';

export function versionLine(): string {
  const runtime = (globalThis as { Deno?: { version: { deno: string } } }).Deno ? `deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}` : `node ${process.version}`;
  return `sidestash ${SIDESTASH_VERSION} (${runtime}, ${process.platform}/${process.arch})`;
}

const print = (s: string): void => void process.stdout.write(`${s}\n`);

/** The exit status when the CLI answered by itself, or undefined when the command must run. */
export function localCommand(argv: string[], usage: string): number | undefined {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  if (command === '--help' || command === '-h') {
    print(usage);
    return 0;
  }
  if (command === '--version') {
    print(versionLine());
    return 0;
  }
  const positionals = rest.filter((a) => !a.startsWith('-'));
  if (command === 'help') {
    if (wantsHelp(rest)) {
      print(commandUsage('help', undefined)!);
      return 0;
    }
    if (positionals[0] === undefined) {
      print(usage);
      return 0;
    }
    const text = commandUsage(positionals[0], positionals[1]);
    if (text === undefined) throw usageError(`unknown command ${JSON.stringify(positionals[0])}${didYouMean(positionals[0], COMMAND_NAMES)}`, 'sidestash');
    print(text);
    return 0;
  }
  if (!COMMAND_NAMES.includes(command) && COMMAND_ALIASES[command] === undefined) {
    throw usageError(`unknown command ${JSON.stringify(command)}${didYouMean(command, COMMAND_NAMES)}`, 'sidestash');
  }
  if (wantsHelp(rest)) {
    print(commandUsage(command, positionals[0])!);
    return 0;
  }
  if (command === 'version') {
    print(versionLine());
    return 0;
  }
  if (command === 'completion') {
    print(completionScript(positionals[0]));
    return 0;
  }
  return undefined;
}
