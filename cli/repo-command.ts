// `sidestash repo ...`: restic-like commands on a repository, for operators and scripts.
// Location and password as restic resolves them (repo-credentials.ts): --repo /
// RESTIC_REPOSITORY or --repository-file / RESTIC_REPOSITORY_FILE; --password-command /
// RESTIC_PASSWORD_COMMAND, --password-file / RESTIC_PASSWORD_FILE or RESTIC_PASSWORD.
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import type { Backend } from '../common/backend/backend.ts';
import { openBackend } from '../common/backend/open-backend.ts';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import { check } from '../common/repository/check.ts';
import { forget } from '../common/repository/forget.ts';
import { removeLocks } from '../common/repository/lock.ts';
import { prune } from '../common/repository/prune.ts';
import { Repository } from '../common/repository/repository.ts';
import { parseTagList } from '../common/repository/retention.ts';
import type { RetentionPolicy } from '../common/repository/retention.ts';
import { openSnapshotFileStream } from '../common/repository/snapshot-reader.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { loadSnapshot } from '../common/repository/snapshot.ts';
import { backendCredentials } from './repo-backend-env.ts';
import { forgetJson, forgetText } from './restic-forget-text.ts';
import { checkErrorJson, checkJson, checkText, pruneJson, pruneText } from './restic-maintenance-text.ts';
import { backupJson, backupText, displayLocation, initJson, initText, resticDuration, unlockText } from './restic-write-text.ts';
import { parseKeepCount, resolvePassword, resolveRepository } from './repo-credentials.ts';
import { REPO_USAGE as USAGE, REPO_VERBS } from './repo-help.ts';
import { commandSource } from './stdin-command-source.ts';
import { stdinSource } from './stdin-source.ts';
import { didYouMean } from '../common/did-you-mean.ts';
import { fromParseArgsError, optionNames, usageError, wantsHelp } from './usage-error.ts';
import { dumpSelectionOf, writeSelectedSql } from './repo-dump-selection.ts';


/** A progress line as restic's final one ("[0:01] 100.00%  3 / 3 files deleted"): on a terminal only, on stderr. */
function progress(text: string, startedMs: number): void {
  if (process.stderr.isTTY) process.stderr.write(`[${resticDuration((performance.now() - startedMs) / 1000)}] 100.00%  ${text}\n`);
}

const REPO_OPTIONS = {
  repo: { type: 'string', short: 'r' },
  'repository-file': { type: 'string' },
  'password-file': { type: 'string', short: 'p' },
  'password-command': { type: 'string' },
  cacert: { type: 'string', multiple: true },
  option: { type: 'string', short: 'o', multiple: true },
  'stdin-filename': { type: 'string', default: 'dumpfile.sql' },
  'stdin-from-command': { type: 'boolean' },
  host: { type: 'string' },
  tag: { type: 'string', multiple: true },
  'keep-last': { type: 'string' },
  'keep-hourly': { type: 'string' },
  'keep-daily': { type: 'string' },
  'keep-weekly': { type: 'string' },
  'keep-monthly': { type: 'string' },
  'keep-yearly': { type: 'string' },
  'keep-tag': { type: 'string', multiple: true },
  prune: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'read-data': { type: 'boolean' },
  'read-data-subset': { type: 'string' },
  'remove-all': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  mode: { type: 'string' },
  long: { type: 'boolean', short: 'l' },
  'new-password-file': { type: 'string' },
  database: { type: 'string' },
  table: { type: 'string', multiple: true },
  as: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/**
 * `--keep-last -1` as restic (pflag) reads it: a value option takes the next word even when it
 * starts with a dash, which node's parseArgs refuses as ambiguous. Only a negative integer after
 * a --keep-* option is joined (`--keep-last=-1`); parseKeepCount then accepts -1 and refuses others.
 */
function joinNegativeKeepCounts(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return [...out, ...argv.slice(i)];
    const next = argv[i + 1];
    if (/^--keep-(last|hourly|daily|weekly|monthly|yearly)$/.test(a) && next !== undefined && /^-\d+$/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

function parseRepoArgs(argv: string[]) {
  try {
    return parseArgs({ args: joinNegativeKeepCounts(argv), allowPositionals: true, options: REPO_OPTIONS });
  } catch (err) {
    // node's parseArgs errors (unknown option, missing value) are usage errors: exit code 2.
    throw fromParseArgsError(err, optionNames(REPO_OPTIONS), 'sidestash repo');
  }
}

/** `sidestash repo [VERB] --help`: that verb's usage (or the list), without opening anything. */
function repoHelp(argv: string[]): string {
  const verb = argv.find((a) => !a.startsWith('-') && REPO_VERBS[a] !== undefined);
  return verb ? `${REPO_VERBS[verb]!.usage}\nrepository, password and storage options: see "sidestash repo --help"` : USAGE;
}

export async function repoCommand(argv: string[], signal: AbortSignal): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(`${repoHelp(argv)}\n`);
    return 0;
  }
  const { values, positionals } = parseRepoArgs(argv);
  const [command, ...rest] = positionals;
  if (!command) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (REPO_VERBS[command] === undefined) throw usageError(`unknown command ${JSON.stringify(command)} for "sidestash repo"${didYouMean(command, Object.keys(REPO_VERBS))}`, 'sidestash repo');
  const inspect = await import('./repo-inspect-commands.ts');
  if (command === 'version') {
    const v = inspect.versionText();
    process.stdout.write(`${values.json ? JSON.stringify({ version: v }) : v}\n`);
    return 0;
  }
  const flags = { repo: values.repo, repositoryFile: values['repository-file'], passwordFile: values['password-file'], passwordCommand: values['password-command'] };
  const location = await resolveRepository(flags);
  const pw = await resolvePassword(flags, process.env, signal);
  const backend = await openBackend(location, await backendCredentials(location, { cacert: values.cacert, options: values.option }));
  try {
    return await runVerb(command, rest, values, backend, pw, signal, location);
  } finally {
    await backend.close();
  }
}

type RepoValues = ReturnType<typeof parseRepoArgs>['values'];

async function runVerb(command: string, rest: string[], values: RepoValues, backend: Backend, pw: string, signal: AbortSignal, location: string): Promise<number> {
  const opts = { signal };
  const inspect = await import('./repo-inspect-commands.ts');
  const write = (s: string): void => void process.stdout.write(`${s}\n`);
  const iflags = { json: values.json ?? false, long: values.long ?? false, mode: values.mode, newPasswordFile: values['new-password-file'] };
  const json = values.json ?? false;
  // restic's text by default (none with --quiet, as restic); with --json restic's one-line JSON messages.
  const say = (text: string | undefined, message: unknown): void => {
    if (json) write(JSON.stringify(message));
    else if (text !== undefined && !values.quiet) write(text);
  };
  if (command === 'init') {
    const repo = await Repository.init(backend, pw, opts);
    say(initText(repo.config.id, displayLocation(location)), initJson(repo.config.id, displayLocation(location)));
    return 0;
  }
  const repo = await Repository.open(backend, pw, opts);
  switch (command) {
    case 'backup': {
      const source = values['stdin-from-command'] ? commandSource(rest, signal) : stdinSource();
      const res = await writeSnapshot(repo, source, { filename: values['stdin-filename']!, ...(values.host ? { hostname: values.host } : {}), ...(values.tag ? { tags: values.tag } : {}), signal });
      // The summary as stored in the snapshot: what restic reports is what the snapshot says.
      const { summary } = await loadSnapshot(repo, res.snapshotId, opts);
      if (!summary) throw new SidestashError(ErrorCodes.CORRUPT_FILE, `snapshot ${res.snapshotId} was stored without its summary`);
      say(backupText(res.snapshotId, summary), backupJson(res.snapshotId, summary));
      return 0;
    }
    case 'dump': {
      // Under a shared lock until the last byte is out, as restic's dump.
      const selection = dumpSelectionOf(values);
      const opened = await openSnapshotFileStream(repo, rest[0] ?? 'latest', { ...(rest[1] !== undefined ? { path: rest[1] } : {}), ...opts });
      try {
        if (selection) await writeSelectedSql(repo, opened, selection, process.stdout, signal);
        else await pipeline(opened.stream, process.stdout, opts);
      } finally {
        await opened.close();
      }
      return 0;
    }
    case 'snapshots':
      await inspect.snapshotsCommand(repo, iflags, write, signal);
      return 0;
    case 'stats':
      await inspect.statsCommand(repo, rest, iflags, write, signal);
      return 0;
    case 'ls':
      await inspect.lsCommand(repo, rest[0], iflags, write, signal);
      return 0;
    case 'key':
      await inspect.keyCommand(repo, rest, iflags, write, signal);
      return 0;
    case 'forget': {
      const policy: RetentionPolicy = {};
      const map = [['keep-last', 'keepLast'], ['keep-hourly', 'keepHourly'], ['keep-daily', 'keepDaily'], ['keep-weekly', 'keepWeekly'], ['keep-monthly', 'keepMonthly'], ['keep-yearly', 'keepYearly']] as const;
      for (const [flag, key] of map) {
        const n = parseKeepCount(values[flag], `--${flag}`);
        if (n !== undefined) policy[key] = n;
      }
      if (values['keep-tag']) policy.keepTags = values['keep-tag'].map(parseTagList);
      const dryRun = values['dry-run'] ?? false;
      const startedMs = performance.now();
      const d = await forget(repo, policy, { ...opts, dryRun, ...(values.host ? { hostname: values.host } : {}) });
      say(forgetText(policy, d, dryRun), forgetJson(d));
      if (!dryRun && d.remove.length > 0) progress(`${d.remove.length} / ${d.remove.length} files deleted`, startedMs);
      if (values.prune && !dryRun) {
        const r = await prune(repo, opts);
        say(pruneText(r, false), pruneJson(r, false));
      }
      return 0;
    }
    case 'prune': {
      const dryRun = values['dry-run'] ?? false;
      const r = await prune(repo, { ...opts, dryRun });
      say(pruneText(r, dryRun), pruneJson(r, dryRun));
      if (r.leftoversError !== undefined && !json) process.stderr.write(`could not remove leftovers of unfinished saves (the prune went on): ${r.leftoversError}\n`);
      return 0;
    }
    case 'check': {
      const subset = values['read-data-subset'];
      const readData = values['read-data'] ?? false;
      const report = await check(repo, { ...opts, readData, ...(subset !== undefined ? { readDataSubset: subset } : {}) });
      say(checkText(report, { readData, readDataSubset: subset }), checkJson(report));
      // The errors on stderr, as restic's (JSON lines with --json).
      for (const e of report.errors) process.stderr.write(`${json ? JSON.stringify(checkErrorJson(e)) : e}\n`);
      if (report.errors.length === 0) return 0;
      // restic 0.19's last word, as text or as its "exit_error" message.
      process.stderr.write(json ? `${JSON.stringify({ message_type: 'exit_error', code: 1, message: 'Fatal: repository contains errors' })}\n` : 'Fatal: repository contains errors\n');
      return 1;
    }
    case 'unlock': {
      const removed = await removeLocks(repo, values['remove-all'] ?? false, opts);
      say(unlockText(removed), { message_type: 'summary', removed_locks: removed });
      return 0;
    }
    default:
      throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `unknown command ${JSON.stringify(command)}\n${USAGE}`);
  }
}
