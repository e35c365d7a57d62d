// `sidestash repo ...`: restic-like commands on a repository, for operators and scripts.
// Location and password as restic resolves them (repo-credentials.ts): --repo /
// RESTIC_REPOSITORY or --repository-file / RESTIC_REPOSITORY_FILE; --password-command /
// RESTIC_PASSWORD_COMMAND, --password-file / RESTIC_PASSWORD_FILE or RESTIC_PASSWORD.
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
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
import { listSnapshots } from '../common/repository/snapshot.ts';
import { openSnapshotFileStream } from '../common/repository/snapshot-reader.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { backendCredentials } from './repo-backend-env.ts';
import { parseKeepCount, resolvePassword, resolveRepository } from './repo-credentials.ts';
import { stdinSource } from './stdin-source.ts';

const USAGE = `usage: sidestash repo COMMAND [options]
  init                                   create a repository
  backup --stdin-filename NAME [--host H] [--tag T]...   store standard input as a snapshot
  dump SNAPSHOT|latest [PATH]            write a file of a snapshot to standard output
  snapshots                              list snapshots (JSON)
  forget --keep-last N --keep-hourly N --keep-daily N --keep-weekly N --keep-monthly N --keep-yearly N [--keep-tag T] [--prune] [--dry-run]
  prune                                  remove unreferenced data
  check [--read-data | --read-data-subset n/m|x%]   verify structure (and every pack, or a subset of them)
  unlock [--remove-all]                  remove stale locks
  (N: a count or "unlimited")
common options: --repo LOCATION (or RESTIC_REPOSITORY), --repository-file FILE (or RESTIC_REPOSITORY_FILE),
  --password-file FILE (or RESTIC_PASSWORD_FILE), --password-command COMMAND (or RESTIC_PASSWORD_COMMAND), RESTIC_PASSWORD,
  --cacert FILE (or RESTIC_CACERT), -o s3.region=R, -o s3.bucket-lookup=auto|dns|path
storage credentials as restic reads them: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
  AWS_DEFAULT_REGION, AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE (s3:); user:pass in the URL or
  RESTIC_REST_USERNAME, RESTIC_REST_PASSWORD (rest:)`;

function out(json: unknown): void {
  process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
}

function parseRepoArgs(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        repo: { type: 'string', short: 'r' },
        'repository-file': { type: 'string' },
        'password-file': { type: 'string', short: 'p' },
        'password-command': { type: 'string' },
        cacert: { type: 'string', multiple: true },
        option: { type: 'string', short: 'o', multiple: true },
        'stdin-filename': { type: 'string', default: 'dumpfile.sql' },
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
      },
    });
  } catch (err) {
    // node's parseArgs errors (unknown option, missing value) are usage errors: exit code 2.
    throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `${(err as Error).message}\n${USAGE}`, { cause: err });
  }
}

export async function repoCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseRepoArgs(argv);
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  const flags = { repo: values.repo, repositoryFile: values['repository-file'], passwordFile: values['password-file'], passwordCommand: values['password-command'] };
  const location = await resolveRepository(flags);
  const pw = await resolvePassword(flags, process.env, signal);
  const backend = await openBackend(location, await backendCredentials(location, { cacert: values.cacert, options: values.option }));
  try {
    return await runVerb(command, rest, values, backend, pw, signal);
  } finally {
    await backend.close();
  }
}

type RepoValues = ReturnType<typeof parseRepoArgs>['values'];

async function runVerb(command: string, rest: string[], values: RepoValues, backend: Backend, pw: string, signal: AbortSignal): Promise<number> {
  const opts = { signal };
  if (command === 'init') {
    const repo = await Repository.init(backend, pw, opts);
    out({ id: repo.config.id, location: backend.location });
    return 0;
  }
  const repo = await Repository.open(backend, pw, opts);
  switch (command) {
    case 'backup': {
      const res = await writeSnapshot(repo, stdinSource(), { filename: values['stdin-filename']!, ...(values.host ? { hostname: values.host } : {}), ...(values.tag ? { tags: values.tag } : {}), signal });
      out(res);
      return 0;
    }
    case 'dump': {
      // Under a shared lock until the last byte is out, as restic's dump.
      const opened = await openSnapshotFileStream(repo, rest[0] ?? 'latest', { ...(rest[1] !== undefined ? { path: rest[1] } : {}), ...opts });
      try {
        await pipeline(opened.stream, process.stdout, opts);
      } finally {
        await opened.close();
      }
      return 0;
    }
    case 'snapshots':
      out(await listSnapshots(repo, opts));
      return 0;
    case 'forget': {
      const policy: RetentionPolicy = {};
      const map = [['keep-last', 'keepLast'], ['keep-hourly', 'keepHourly'], ['keep-daily', 'keepDaily'], ['keep-weekly', 'keepWeekly'], ['keep-monthly', 'keepMonthly'], ['keep-yearly', 'keepYearly']] as const;
      for (const [flag, key] of map) {
        const n = parseKeepCount(values[flag], `--${flag}`);
        if (n !== undefined) policy[key] = n;
      }
      if (values['keep-tag']) policy.keepTags = values['keep-tag'].map(parseTagList);
      const d = await forget(repo, policy, { ...opts, dryRun: values['dry-run'] ?? false });
      out({ keep: d.keep.map((s) => ({ id: s.id, time: s.time, reasons: d.reasons.get(s.id) })), remove: d.remove.map((s) => ({ id: s.id, time: s.time })) });
      if (values.prune && !values['dry-run']) out(await prune(repo, opts));
      return 0;
    }
    case 'prune':
      out(await prune(repo, { ...opts, dryRun: values['dry-run'] ?? false }));
      return 0;
    case 'check': {
      const subset = values['read-data-subset'];
      const report = await check(repo, { ...opts, readData: values['read-data'] ?? false, ...(subset !== undefined ? { readDataSubset: subset } : {}) });
      out(report);
      return report.errors.length === 0 ? 0 : 1;
    }
    case 'unlock':
      out({ removed: await removeLocks(repo, values['remove-all'] ?? false, opts) });
      return 0;
    default:
      throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `unknown command ${JSON.stringify(command)}\n${USAGE}`);
  }
}
