// Whether a dump holds the whole server: a point-in-time restore loads it and then replays the
// whole server's binary log over it (common/binlog/pitr-plan.ts), so a dump that leaves anything
// out (other databases, tables, rows, structure) would come back with that part missing while the
// binlog's later changes to it apply or fail: data loss, or a restore that cannot finish. An
// allow-list of the canonical arguments (common/dump-args.ts) that change how the dump is written,
// not what it holds; --all-databases is required; comments must stay on (the coordinates are one).
import { normaliseDumpArgs } from './dump-args.ts';

/** Options (canonical, without a value or a --skip-) that keep every database, table, row and definition. */
const KEEPS_EVERYTHING = new Set([
  'all-databases', 'routines', 'events', 'triggers', 'dump-history', 'no-tablespaces', 'single-transaction', 'lock-tables', 'lock-all-tables',
  'quick', 'order-by-primary', 'order-by-size', 'add-drop-database', 'add-drop-table', 'add-drop-trigger', 'add-locks', 'allow-keywords',
  'complete-insert', 'create-options', 'disable-keys', 'dump-date', 'extended-insert', 'hex-blob', 'insert-ignore', 'no-autocommit', 'quote-names',
  'replace', 'set-charset', 'no-set-names', 'tz-utc', 'opt', 'skip-opt', 'default-character-set', 'max-allowed-packet', 'net-buffer-length',
  'max-statement-time', 'verbose', 'comments',
]);
/** Turned off, these leave something out of the dump. */
const NEEDED_ON = new Set(['comments', 'routines', 'events', 'triggers']);

/** Why `dumpArgs` (as a BackupConfiguration gives them) do not dump the whole server; undefined when they do. */
export function wholeServerDumpProblem(dumpArgs: readonly string[]): string | undefined {
  const { args, problems } = normaliseDumpArgs([...dumpArgs]);
  if (problems.length > 0) return undefined; // refused on their own (spec.dumpArgs)
  const names = args.map((a) => /^--([a-z-]+)/.exec(a)?.[1] ?? a);
  if (!names.includes('all-databases')) return 'must dump the whole server (--all-databases)';
  for (const n of names) {
    const off = n.startsWith('skip-') && n !== 'skip-opt' ? n.slice('skip-'.length) : undefined;
    if (off !== undefined && NEEDED_ON.has(off)) return `--${n} leaves part of the server out of the dump`;
    if (off === undefined && !KEEPS_EVERYTHING.has(n)) return `--${n} leaves part of the server out of the dump`;
    if (off !== undefined && !KEEPS_EVERYTHING.has(off)) return `--${n} leaves part of the server out of the dump`;
  }
  // --compact is --skip-comments and more; --skip-routines etc. are caught above.
  return undefined;
}
