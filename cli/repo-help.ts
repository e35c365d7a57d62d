// The usage of `sidestash repo` and of each of its verbs (`sidestash repo VERB --help`).

export const REPO_COMMON = `common options: --repo/-r LOCATION (or RESTIC_REPOSITORY), --repository-file FILE (or RESTIC_REPOSITORY_FILE),
  --password-file/-p FILE (or RESTIC_PASSWORD_FILE), --password-command COMMAND (or RESTIC_PASSWORD_COMMAND), RESTIC_PASSWORD,
  --cacert FILE (or RESTIC_CACERT), -o s3.region=R, -o s3.bucket-lookup=auto|dns|path,
  --quiet/-q (init, backup, forget, prune, check, unlock print nothing but errors)
storage credentials as restic reads them: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
  AWS_DEFAULT_REGION, AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE (s3:); user:pass in the URL or
  RESTIC_REST_USERNAME, RESTIC_REST_PASSWORD (rest:)
exit status: 0 done, 1 failed, 2 usage error, 10 no repository, 11 failed to lock, 12 wrong password, 130 interrupted`;

export interface RepoVerb {
  /** One line for the list in "sidestash repo --help". */
  line: string;
  usage: string;
  options: string[];
}

const KEEP = ['--keep-last', '--keep-hourly', '--keep-daily', '--keep-weekly', '--keep-monthly', '--keep-yearly', '--keep-tag'];

export const REPO_VERBS: Record<string, RepoVerb> = {
  init: { line: 'init [--json]                          create a repository', usage: 'usage: sidestash repo init [--json]\n  create a repository at the location; prints restic\'s "created restic repository ID at LOCATION"\n  (--json: restic\'s {"message_type":"initialized","id":...,"repository":...})', options: ['--json'] },
  backup: { line: 'backup --stdin-filename NAME [--host H] [--tag T]... [--json] [--stdin-from-command -- CMD ARG...]   store standard input (or CMD\'s output) as a snapshot', usage: 'usage: sidestash repo backup [--stdin-filename NAME] [--host HOST] [--tag TAG]... [--json] [--stdin-from-command -- COMMAND [ARG...]]\n  store standard input as a snapshot of one file NAME (default dumpfile.sql);\n  --stdin-from-command: store COMMAND\'s output instead, and no snapshot when it exits non-zero\n  prints restic\'s summary (Files:, Added to the repository:, "snapshot ID saved");\n  --json: restic 0.19\'s {"message_type":"summary",...,"snapshot_id":...}', options: ['--stdin-filename', '--stdin-from-command', '--host', '--tag', '--json'] },
  dump: { line: 'dump SNAPSHOT|latest [PATH] [--database DB | --table DB.T ...] [--as DB]   write a file of a snapshot, or one database\'s or some tables\' SQL, to standard output', usage: 'usage: sidestash repo dump SNAPSHOT|latest [PATH] [--database DB | --table DB.T ...] [--as DB]\n  write a file of a snapshot to standard output (PATH may be left out when the snapshot holds one file)\n  --database: only that database\'s SQL; --table: only these tables (structure, data, triggers), repeatable;\n  --as: into database DB instead. The SQL loads with mariadb as printed (session header, DELIMITER lines);\n  with the snapshot\'s dump index only the blobs that hold it are read', options: ['--database', '--table', '--as'] },
  snapshots: { line: 'snapshots [--json]                     list snapshots (a table; JSON with --json)', usage: 'usage: sidestash repo snapshots [--json]\n  list the snapshots, as restic does (a table; JSON with --json)', options: ['--json'] },
  stats: { line: 'stats [SNAPSHOT...] [--mode restore-size|raw-data] [--json]   sizes, as restic stats', usage: 'usage: sidestash repo stats [SNAPSHOT...] [--mode restore-size|raw-data] [--json]\n  the sizes restic stats reports', options: ['--mode', '--json'] },
  ls: { line: 'ls SNAPSHOT|latest [-l] [--json]       list the files of a snapshot', usage: 'usage: sidestash repo ls SNAPSHOT|latest [-l] [--json]\n  list the files of a snapshot, as restic ls', options: ['--long', '-l', '--json'] },
  key: { line: 'key list [--json] | key add --new-password-file FILE | key remove ID   the keys (passwords)', usage: 'usage: sidestash repo key list [--json]\n       sidestash repo key add --new-password-file FILE   (or RESTIC_NEW_PASSWORD)\n       sidestash repo key remove ID   (a unique prefix; never the key in use)\n  the repository\'s keys, as restic key', options: ['--json', '--new-password-file'] },
  version: { line: 'version                                print the version (needs no repository)', usage: 'usage: sidestash repo version\n  print the version (needs no repository)', options: ['--json'] },
  forget: { line: 'forget --keep-last N --keep-hourly N --keep-daily N --keep-weekly N --keep-monthly N --keep-yearly N [--keep-tag T] [--host H] [--prune] [--dry-run] [--json]', usage: 'usage: sidestash repo forget [--keep-last N] [--keep-hourly N] [--keep-daily N] [--keep-weekly N] [--keep-monthly N] [--keep-yearly N] [--keep-tag T]... [--host HOST] [--prune] [--dry-run] [--json]\n  remove the snapshots the policy does not keep (N: a count or "unlimited"), per host and paths as restic;\n  --host: only that host\'s snapshots; --prune then removes their data\n  prints restic\'s "keep N snapshots:" (with the reasons) and "remove N snapshots:" tables;\n  --json: restic\'s array of groups {host, paths, keep, remove, reasons}', options: [...KEEP, '--host', '--prune', '--dry-run', '--json'] },
  prune: { line: 'prune [--dry-run] [--json]             remove unreferenced data', usage: 'usage: sidestash repo prune [--dry-run] [--json]\n  remove the data no snapshot references; prints restic\'s statistics (to repack, to delete, remaining)\n  --json: one {"message_type":"summary",...} with those numbers (restic prints no JSON for prune)', options: ['--dry-run', '--json'] },
  check: { line: 'check [--read-data | --read-data-subset n/m|x%] [--json]   verify structure (and every pack, or a subset of them)', usage: 'usage: sidestash repo check [--read-data | --read-data-subset n/m|x%] [--json]\n  verify the repository\'s structure, and with --read-data every pack (or a subset of them);\n  prints restic\'s steps and "no errors were found" (the errors on stderr, exit status 1);\n  --json: restic 0.19\'s {"message_type":"summary","num_errors":...,"broken_packs":...} (errors as "error" lines on stderr)', options: ['--read-data', '--read-data-subset', '--json'] },
  unlock: { line: 'unlock [--remove-all] [--json]         remove stale locks', usage: 'usage: sidestash repo unlock [--remove-all] [--json]\n  remove stale locks (--remove-all: every lock); prints restic\'s "successfully removed N locks"\n  --json: {"message_type":"summary","removed_locks":N} (restic prints no JSON for unlock)', options: ['--remove-all', '--json'] },
};

export const REPO_USAGE = `usage: sidestash repo COMMAND [options]
${Object.values(REPO_VERBS).map((v) => `  ${v.line}`).join('\n')}
  (N: a count or "unlimited")
${REPO_COMMON}`;

export const REPO_COMMON_OPTIONS = ['--repo', '-r', '--repository-file', '--password-file', '-p', '--password-command', '--cacert', '-o', '--quiet', '-q'];
