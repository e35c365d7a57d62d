// Dispatches `sidestash COMMAND ...`.
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { didYouMean } from '../common/did-you-mean.ts';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import { createLogger } from '../common/log.ts';
import { stripTerminalControls } from '../common/terminal-text.ts';
import { COMMAND_NAMES } from './command-help.ts';
import { fromParseArgsError, optionNames, usageError } from './usage-error.ts';
// Commands load their modules on use, so that `sidestash agent` does not carry the CLI's.

export const USAGE = `usage: sidestash COMMAND [options]
  controller                         run the controller (config from SIDESTASH_* environment variables)
  agent                              run the agent sidecar (config from SIDESTASH_* environment variables)
  apply -f FILE [-f FILE]...         create or update resources from YAML/JSON files ("-" for stdin)
  get KIND [NAME] [-o wide|yaml|json|name|jsonpath=TEMPLATE] [-l SELECTOR] [-A] [-w]
                                     list resources (secrets, repositories, appbindings, backupconfigurations,
                                     backupsessions, restoresessions, agents); -A all namespaces, -w watch
  describe KIND NAME                 show one resource for people: state, related sessions, serving agent, events
  delete KIND NAME [--force] | -f FILE
                                     delete a resource, or those a file's documents name [--ignore-not-found];
                                     --force: a Secret or Repository others still use
  pause CONFIG | resume CONFIG       stop or restart a BackupConfiguration's schedule (spec.paused)
  backup trigger CONFIG [--name NAME] [--wait] [--force]
                                     start a backup now; --wait shows its progress until it ends;
                                     --force: even when the configuration is paused
  restore --repository R --target APPBINDING [--snapshot ID|latest] [--source-host HOST] [--database DB | --table DB.T ...] [--as DB]
          [--parallel N] [--no-binlog] [--verify checksum] [--to TIME|latest | --to-gtid D-S-N | --to-position FILE:POS] [--name NAME] [--wait]
                                     --to: point-in-time recovery (the newest dump before TIME, then the archived binlog up to it)
                                     --table: only these tables (structure, data, triggers); --as: into this database
                                     --parallel: connections to load over (1..64; default: the agent's cores, at least 2);
                                     --no-binlog: do not write the server's binary log; --verify checksum: also record CHECKSUM TABLE
                                     --name: the session's name (default: restore-TARGET- and 5 random characters)
                                     --source-host: latest of the snapshots Stash wrote for HOST (e.g. host-0)
  cancel KIND NAME                   cancel a session
  wait KIND NAME                     follow a session until it ends
  snapshots REPOSITORY [--json]      list a repository's snapshots
  agenttoken create -n NS [--targets A,B] [--description TEXT]
                                     issue an agent enrolment token scoped to namespace NS (shown once)
  agenttoken list [-n NS | -A] | revoke ID
                                     list namespace NS's enrolment tokens (-A: every namespace's), or revoke one
  repo ...                           work on a repository directly (see "sidestash repo --help")
  version                            print the version (also --version)
  completion bash|zsh                print a shell completion script
  help [COMMAND]                     this text, or a command's usage (also COMMAND --help)
common options: --url (SIDESTASH_URL, default https://127.0.0.1:7480), --token (SIDESTASH_ADMIN_TOKEN), -n/--namespace
  SIDESTASH_CA_FILE: the CA of the controller's certificate (a generated one is api-ca.crt beside its database)
  SIDESTASH_INSECURE_HTTP=true: allow an http:// URL (the admin token then crosses the network unencrypted)
  --log-format json|text: how errors are written (default: text on a terminal, JSON lines otherwise)`;

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  namespace: { type: 'string', short: 'n', default: 'default' },
  filename: { type: 'string', short: 'f', multiple: true },
  output: { type: 'string', short: 'o' },
  selector: { type: 'string', short: 'l' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  watch: { type: 'boolean', short: 'w' },
  force: { type: 'boolean' },
  'ignore-not-found': { type: 'boolean' },
  name: { type: 'string' },
  wait: { type: 'boolean' },
  json: { type: 'boolean' },
  repository: { type: 'string' },
  target: { type: 'string' },
  snapshot: { type: 'string', default: 'latest' },
  database: { type: 'string' },
  table: { type: 'string', multiple: true },
  as: { type: 'string' },
  'source-host': { type: 'string' },
  parallel: { type: 'string' },
  'no-binlog': { type: 'boolean' },
  to: { type: 'string' },
  'to-gtid': { type: 'string' },
  'to-position': { type: 'string' },
  verify: { type: 'string' },
  targets: { type: 'string' },
  description: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

function parseCommandArgs(args: string[], command: string) {
  try {
    return parseArgs({ args, allowPositionals: true, options: OPTIONS });
  } catch (err) {
    // Unknown options and missing values are usage errors (exit status 2), with a suggestion.
    throw fromParseArgsError(err, optionNames(OPTIONS), `sidestash ${command}`);
  }
}

export async function main(argv: string[], signal: AbortSignal): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'repo') return (await import('./repo-command.ts')).repoCommand(rest, signal);
  // Help, version and completion: no token, no server, nothing started.
  const local = await (await import('./local-commands.ts')).localCommand(argv, USAGE);
  if (local !== undefined) return local;
  if (command === 'controller') return (await import('./run-controller.ts')).runController(signal);
  if (command === 'agent') return (await import('./run-agent.ts')).runAgent(signal);
  if (command === undefined) return 2;
  const { values, positionals } = parseCommandArgs(rest, command);
  const { apiOptionsFromEnv, api } = await import('./api-client.ts');
  const { applyFiles, plural, remove } = await import('./resource-commands.ts');
  const { createRestore, pointInTimeOptions, snapshots, triggerBackup, waitForSession } = await import('./session-commands.ts');
  const { parallelOption } = await import('./restore-tables.ts');
  const o = apiOptionsFromEnv(values);
  const ns = values.namespace!;
  // What the server sends may hold terminal escape sequences: never pass them to the terminal.
  const print = (s: string): number => {
    process.stdout.write(`${stripTerminalControls(s)}\n`);
    return 0;
  };
  switch (command) {
    case 'apply':
      if (!values.filename?.length) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'apply needs -f FILE');
      return print(await applyFiles(o, values.filename));
    case 'get': {
      const { getCommand, parseOutputFormat, watchCommand } = await import('./get-command.ts');
      const g = { plural: plural(positionals[0]), name: positionals[1], namespace: ns, allNamespaces: values['all-namespaces'] ?? false, selector: values.selector, output: parseOutputFormat(values.output) };
      if (g.name && (g.allNamespaces || g.selector)) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'get KIND NAME takes neither -A nor -l');
      if (!values.watch) {
        const text = await getCommand(o, g);
        // Nothing found: stdout stays empty (the note went to stderr), as kubectl's.
        return text === '' ? 0 : print(text);
      }
      await watchCommand(o, g, (s) => process.stdout.write(stripTerminalControls(s)), signal);
      return 130;
    }
    case 'describe':
      return print(await (await import('./describe-command.ts')).describeCommand(o, plural(positionals[0]), positionals[1], ns));
    case 'delete':
      if (values.filename?.length) {
        if (positionals.length > 0) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'delete takes either KIND NAME or -f FILE');
        const { deleteFiles } = await import('./delete-files.ts');
        await deleteFiles(o, values.filename, ns, values['ignore-not-found'] ?? false, print);
        return 0;
      }
      return print(await remove(o, positionals[0], positionals[1], ns, values.force ?? false));
    case 'pause':
    case 'resume':
      return print(await (await import('./pause-commands.ts')).setPaused(o, positionals[0], ns, command === 'pause'));
    case 'backup': {
      if (positionals[0] !== 'trigger' || !positionals[1]) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'usage: sidestash backup trigger CONFIG [--name NAME] [--wait] [--force]');
      await (await import('./pause-commands.ts')).checkTriggerAllowed(o, positionals[1], ns, values.force ?? false);
      const s = await triggerBackup(o, positionals[1], ns, values.name);
      print(`backupsession/${s.metadata.name} created`);
      return values.wait ? waitForSession(o, 'backupsessions', s.metadata.name, ns, signal) : 0;
    }
    case 'restore': {
      if (!values.repository || !values.target) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'restore needs --repository and --target');
      const parallel = parallelOption(values.parallel);
      if (Number.isNaN(parallel)) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `--parallel must be an integer from 1 to 64, not ${JSON.stringify(values.parallel)}`);
      if (values.verify !== undefined && values.verify !== 'checksum') throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `--verify takes checksum, not ${JSON.stringify(values.verify)}`);
      const point = pointInTimeOptions(values.to, values['to-gtid'], values['to-position']);
      const s = await createRestore(o, { repository: values.repository, target: values.target, snapshot: values.snapshot!, database: values.database, tables: values.table, targetDatabase: values.as, sourceHost: values['source-host'], namespace: ns, name: values.name, parallel, writeBinlog: values['no-binlog'] ? false : undefined, verify: values.verify, ...point });
      print(`restoresession/${s.metadata.name} created`);
      return values.wait ? waitForSession(o, 'restoresessions', s.metadata.name, ns, signal) : 0;
    }
    case 'cancel': {
      await api(o, 'POST', `/api/v1/${plural(positionals[0])}/${encodeURIComponent(positionals[1] ?? '')}/cancel?namespace=${encodeURIComponent(ns)}`);
      return print(`${positionals[0]}/${positionals[1]} cancel requested`);
    }
    case 'wait': {
      const p = plural(positionals[0]);
      if (p !== 'backupsessions' && p !== 'restoresessions') throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'wait takes a session kind');
      return waitForSession(o, p, positionals[1] ?? '', ns, signal);
    }
    case 'snapshots':
      if (!positionals[0]) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'snapshots needs REPOSITORY');
      return print(await snapshots(o, positionals[0], ns, values.json ?? false));
    case 'agenttoken':
    case 'agenttokens': {
      const { agentTokenCommand } = await import('./agent-token-commands.ts');
      return print(await agentTokenCommand(o, positionals, { namespace: ns, allNamespaces: values['all-namespaces'] ?? false, targets: values.targets, description: values.description, output: values.output }));
    }
    default:
      createLogger({ component: 'cli' }).debug('unknown command', { command });
      throw usageError(`unknown command ${JSON.stringify(command)}${didYouMean(command, COMMAND_NAMES)}`, 'sidestash');
  }
}
