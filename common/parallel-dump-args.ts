// What a BackupConfiguration's dumpArgs mean for the parallel dumper (spec.dumper: parallel),
// from their canonical form (common/dump-args.ts, whose allow-list and parsing come first): an
// allow-list of its own. Which databases (--all-databases, or --databases and their names, or
// one database name), --where (a condition every table's rows must meet: data, checked by
// sql-where.ts, never shell), --net-buffer-length (the largest INSERT), and options that ask
// for what the parallel dumper always does (consistent snapshot, routines, events, triggers,
// extended inserts, ...). Everything else (table lists, --ignore-table, --no-data, --compact,
// --skip-*, other character sets, ...) is refused on apply, each with its reason. Pure.
import type { DumpArgsProblem } from './dump-args.ts';
import { normaliseDumpArgs } from './dump-args.ts';
import { ErrorCodes, SidestashError } from './errors.ts';

export interface ParallelDumpSelection {
  /** undefined: every database (as --all-databases). */
  databases?: string[];
  where?: string;
  maxStatementBytes?: number;
}

/** Options the parallel dumper honours by what it always does. */
const ALWAYS_DONE = new Set([
  'single-transaction', 'routines', 'events', 'triggers', 'quick', 'opt', 'extended-insert', 'hex-blob', 'add-drop-table', 'add-locks',
  'disable-keys', 'set-charset', 'tz-utc', 'create-options', 'quote-names', 'comments', 'dump-date', 'no-tablespaces', 'verbose', 'allow-keywords',
  'max-allowed-packet',
]);
/** Character sets under which the dump's values come back unchanged (the parallel dump always writes the bytes stored, under SET NAMES binary). */
const CHARSETS = new Set(['utf8mb4', 'binary']);

export function parallelDumpSelection(dumpArgs: readonly unknown[]): { selection: ParallelDumpSelection; problems: DumpArgsProblem[] } {
  const normalised = normaliseDumpArgs(dumpArgs);
  if (normalised.problems.length > 0) return { selection: {}, problems: normalised.problems };
  const problems: DumpArgsProblem[] = [];
  // Canonical arguments no longer map to the given indexes one to one; a problem names the argument.
  const at = (arg: string): number => Math.max(0, dumpArgs.findIndex((a) => typeof a === 'string' && (a === arg || arg.startsWith(`${a}=`) || a.startsWith(arg))));
  let all = false;
  let listed = false;
  const selection: ParallelDumpSelection = {};
  const positional: string[] = [];
  for (const arg of normalised.args) {
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/s.exec(arg);
    if (!m) {
      positional.push(arg);
      continue;
    }
    const [, name, value] = m as unknown as [string, string, string | undefined];
    if (name === 'all-databases') all = true;
    else if (name === 'databases') listed = true;
    else if (name === 'where') selection.where = value!;
    else if (name === 'net-buffer-length') selection.maxStatementBytes = Number(value);
    else if (name === 'default-character-set') {
      if (!CHARSETS.has(value!.toLowerCase())) problems.push({ index: at(arg), message: `the parallel dumper writes every column's bytes as stored (SET NAMES binary); --default-character-set=${value} is not supported with spec.dumper: parallel (utf8mb4 or binary)` });
    } else if (!ALWAYS_DONE.has(name)) {
      problems.push({ index: at(arg), message: `--${name} is not supported with spec.dumper: parallel (it takes --all-databases, --databases and their names, --where and --net-buffer-length, and options that do not change what is dumped)` });
    }
  }
  if (all && (listed || positional.length > 0)) problems.push({ index: at('--all-databases'), message: '--all-databases takes no database names' });
  else if (listed) {
    if (positional.length === 0) problems.push({ index: at('--databases'), message: '--databases needs at least one database name' });
    selection.databases = positional;
  } else if (!all) {
    if (positional.length === 0) problems.push({ index: 0, message: 'name the databases to dump (--databases and their names) or --all-databases' });
    else if (positional.length > 1) problems.push({ index: at(positional[1]!), message: 'a list of tables is not supported with spec.dumper: parallel (it dumps whole databases; use --databases to name several)' });
    else selection.databases = positional;
  }
  return { selection, problems };
}

/** The selection; DUMP_ARGS_REFUSED listing every problem otherwise (the agent's own check). */
export function requireParallelDumpSelection(dumpArgs: readonly unknown[]): ParallelDumpSelection {
  const { selection, problems } = parallelDumpSelection(dumpArgs);
  if (problems.length > 0) {
    const list = problems.map((p) => `dumpArgs[${p.index}]: ${p.message}`).join('; ');
    throw new SidestashError(ErrorCodes.DUMP_ARGS_REFUSED, `dump arguments refused for the parallel dumper: ${list}`, { details: { problems } });
  }
  return selection;
}
