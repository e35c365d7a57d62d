// Each command's own usage, for `sidestash COMMAND [SUB] --help` and `sidestash help COMMAND`
// (printed without a token or a server), for "did you mean" on a mistyped command, and for the
// shell completion scripts (completion.ts). The names here are the commands main.ts dispatches.
import { REPO_VERBS } from './repo-help.ts';

export const COMMON_OPTIONS = `common options: --url URL (SIDESTASH_URL, default https://127.0.0.1:7480), --token TOKEN (SIDESTASH_ADMIN_TOKEN),
  -n/--namespace NS (default "default"), --log-format json|text (errors: text on a terminal, else JSON lines)
  SIDESTASH_CA_FILE: the CA of the controller's certificate; SIDESTASH_INSECURE_HTTP=true: allow an http:// URL`;

export interface CommandHelp {
  /** A few words, for completion menus. */
  summary: string;
  usage: string;
  /** Whether the common (controller API) options apply. */
  api: boolean;
  /** Subcommands with their own usage. */
  sub?: Record<string, string>;
  /** Options the command takes, for completion. */
  options?: string[];
}

export const KINDS = ['secrets', 'repositories', 'appbindings', 'backupconfigurations', 'backupsessions', 'restoresessions', 'agents'];

export const COMMANDS: Record<string, CommandHelp> = {
  controller: { summary: 'run the controller', api: false, usage: 'usage: sidestash controller\n  run the controller; its settings come from SIDESTASH_* environment variables (README.md, Configuration)' },
  agent: { summary: 'run the agent sidecar', api: false, usage: 'usage: sidestash agent\n  run the agent sidecar next to MariaDB; its settings come from SIDESTASH_* environment variables (README.md, Configuration)' },
  apply: { summary: 'create or update resources from files', api: true, options: ['-f', '--filename'], usage: 'usage: sidestash apply -f FILE [-f FILE]...\n  create or update the resources in YAML or JSON files ("-" reads standard input); all files are\n  checked first and applied together: one problem anywhere applies nothing' },
  get: { summary: 'list resources', api: true, options: ['-o', '--output', '-l', '--selector', '-A', '--all-namespaces', '-w', '--watch'], usage: `usage: sidestash get KIND [NAME] [-o wide|yaml|json|name|jsonpath=TEMPLATE] [-l SELECTOR] [-A] [-w]\n  list resources with their state, or show one; -l: label selector (k=v, k!=v, k, !k, k in (a,b)),\n  -A: all namespaces, -w: watch (print rows that change; Ctrl-C ends)\n  KIND: ${KINDS.join(', ')}` },
  describe: { summary: 'show one resource for people', api: true, usage: `usage: sidestash describe KIND NAME\n  show one resource for people: its state, related sessions, serving agent and recent events\n  KIND: ${KINDS.join(', ')}` },
  delete: { summary: 'delete resources', api: true, options: ['-f', '--filename', '--force', '--ignore-not-found'], usage: `usage: sidestash delete KIND NAME [--force]\n       sidestash delete -f FILE [-f FILE]... [--ignore-not-found]\n  delete a resource, or the resources a file's documents name (a file with an unreadable document deletes nothing)\n  --force: delete a Secret or Repository that others still use\n  KIND: ${KINDS.join(', ')}` },
  pause: { summary: "stop a BackupConfiguration's schedule", api: true, usage: 'usage: sidestash pause CONFIG\n  stop the schedule of BackupConfiguration CONFIG (spec.paused: true)' },
  resume: { summary: "restart a BackupConfiguration's schedule", api: true, usage: 'usage: sidestash resume CONFIG\n  restart the schedule of BackupConfiguration CONFIG (spec.paused: false)' },
  backup: { summary: 'start a backup now',
    api: true,
    options: ['--name', '--wait', '--force'],
    usage: 'usage: sidestash backup trigger CONFIG [--name NAME] [--wait] [--force]\n  start a backup of BackupConfiguration CONFIG now; --wait shows its progress until it ends;\n  --name: the session\'s name (default: CONFIG- and 5 random characters); --force: even when it is paused',
    sub: { trigger: 'usage: sidestash backup trigger CONFIG [--name NAME] [--wait] [--force]\n  start a backup of BackupConfiguration CONFIG now; --wait shows its progress until it ends;\n  --name: the session\'s name (default: CONFIG- and 5 random characters); --force: even when it is paused' },
  },
  restore: { summary: 'restore a snapshot into a database',
    api: true,
    options: ['--repository', '--target', '--snapshot', '--source-host', '--database', '--table', '--as', '--parallel', '--no-binlog', '--verify', '--to', '--to-gtid', '--to-position', '--name', '--wait'],
    usage: 'usage: sidestash restore --repository R --target APPBINDING [--snapshot ID|latest] [--source-host HOST] [--database DB | --table DB.T ...] [--as DB] [--parallel N] [--no-binlog] [--verify checksum] [--to TIME|latest | --to-gtid D-S-N | --to-position FILE:POS] [--name NAME] [--wait]\n  restore a snapshot into the database of an AppBinding\n  --to: point-in-time recovery: the newest dump before TIME (RFC 3339 with its offset), then the binary log archived up to it (latest: everything archived)\n  --to-gtid: up to and including this GTID (e.g. the one before a DROP TABLE); --to-position: up to, not including, FILE:POS\n  --source-host: the latest of the snapshots Stash wrote for HOST (e.g. host-0)\n  --database: restore only this database of the snapshot (refused when the snapshot lacks it)\n  --table: restore only this table (DB.T, repeatable) with its structure, data and triggers\n  --as: restore the database or tables into database DB instead; the original is not touched\n  --parallel: connections the dump loads over (1..64; default: the agent\'s cores, at least 2)\n  --no-binlog: the restore does not write the server\'s binary log (needs BINLOG ADMIN)\n  --verify checksum: also record CHECKSUM TABLE of each restored table (row counts are always checked)\n  --name: the session\'s name (default: restore-TARGET- and 5 random characters)\n  --wait: show the progress until the restore ends',
  },
  cancel: { summary: 'cancel a session', api: true, usage: 'usage: sidestash cancel backupsession|restoresession NAME\n  cancel a session' },
  wait: { summary: 'follow a session until it ends', api: true, usage: 'usage: sidestash wait backupsession|restoresession NAME\n  follow a session until it ends; the exit status is 0 when it succeeded' },
  snapshots: { summary: 'list the snapshots of a repository', api: true, options: ['--json'], usage: 'usage: sidestash snapshots REPOSITORY [--json]\n  list the snapshots of a Repository (the controller opens it: a local path must exist where the controller runs)' },
  agenttoken: { summary: 'manage agent enrolment tokens',
    api: true,
    options: ['--targets', '--description', '-o', '--output', '-A', '--all-namespaces'],
    usage: 'usage: sidestash agenttoken create -n NAMESPACE [--targets APPBINDING,...] [--description TEXT] [-o json]\n       sidestash agenttoken list [-n NAMESPACE | -A] [-o json]\n       sidestash agenttoken revoke ID\n  agent enrolment tokens, each scoped to one namespace (and optionally to named AppBindings)',
    sub: {
      create: 'usage: sidestash agenttoken create -n NAMESPACE [--targets APPBINDING,...] [--description TEXT] [-o json]\n  issue an enrolment token for the agents of NAMESPACE (shown this once)',
      list: 'usage: sidestash agenttoken list [-n NAMESPACE | -A] [-o json]\n  list the enrolment tokens of NAMESPACE (default "default"), as kubectl get; -A: of every namespace',
      revoke: 'usage: sidestash agenttoken revoke ID\n  revoke a token: the agents enrolled with it lose access',
    },
  },
  repo: { summary: 'work on a repository directly', api: false, usage: 'usage: sidestash repo COMMAND [options]\n  work on a repository directly, as restic does (see "sidestash repo --help")', sub: Object.fromEntries(Object.entries(REPO_VERBS).map(([k, v]) => [k, v.usage])) },
  version: { summary: 'print the version', api: false, usage: 'usage: sidestash version (or sidestash --version)\n  print the version of sidestash and of the runtime; needs no token and no server' },
  completion: { summary: 'print a shell completion script', api: false, usage: 'usage: sidestash completion bash|zsh\n  print a shell completion script, e.g.\n    source <(sidestash completion bash)            # bash, in ~/.bashrc\n    sidestash completion zsh > "${fpath[1]}/_sidestash"   # zsh' },
  help: { summary: 'show usage', api: false, usage: 'usage: sidestash help [COMMAND [SUBCOMMAND]]\n  show the usage of sidestash or of one command' },
};

/** Aliases main.ts accepts for a command. */
export const COMMAND_ALIASES: Record<string, string> = { agenttokens: 'agenttoken' };

export const COMMAND_NAMES = Object.keys(COMMANDS);

/** The usage text for `sidestash COMMAND [SUB] --help`, or undefined for an unknown command. */
export function commandUsage(command: string, sub: string | undefined): string | undefined {
  const c = COMMANDS[COMMAND_ALIASES[command] ?? command];
  if (!c) return undefined;
  const text = (sub !== undefined ? c.sub?.[sub] : undefined) ?? c.usage;
  if (command === 'repo' && sub !== undefined && c.sub?.[sub]) return `${text}\n${REPO_COMMON_OPTIONS_REF}`;
  return c.api ? `${text}\n${COMMON_OPTIONS}` : text;
}

const REPO_COMMON_OPTIONS_REF = 'repository, password and storage options: see "sidestash repo --help"';
