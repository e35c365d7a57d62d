// The mariadb-dump arguments a BackupConfiguration may carry (spec.dumpArgs), parsed the way
// mariadb-dump's my_getopt parses them, checked against an allow-list, and rewritten into one
// canonical form. The controller checks them when a resource is applied; the agent checks them
// again before it starts anything and runs only the canonical form (full option names,
// `--name=value`, positional names last), so what was checked is exactly what runs.
//
// my_getopt, as mirrored here: `_` equals `-` in names; a long option may be any unambiguous
// prefix of a name (an exact name wins); when no option matches, the special prefixes `skip-`,
// `disable-`, `enable-`, `maximum-` and `loose-` are stripped, repeatedly, and the rest is looked
// up again; an option that needs a value takes it after `=` or as the next argument, whatever
// that argument looks like; short options bundle (`-AR`), and a short option that needs a value
// takes the rest of its argument (`-wid>1`) or the next one; `--` ends the options. Anything that
// resolves to an option outside the allow-list, is ambiguous, or is unknown is refused.
import { ErrorCodes, SidestashError } from './errors.ts';
import { ALLOWED_DUMP_OPTIONS, MARIADB_DUMP_OPTIONS } from './mariadb-dump-options.ts';
import type { DumpOption, ValueRule } from './mariadb-dump-options.ts';
import { whereConditionProblem } from './sql-where.ts';

export interface DumpArgsProblem {
  /** Index into the given arguments. */
  index: number;
  message: string;
}

export interface NormalisedDumpArgs {
  /** The canonical arguments to run; meaningful only when there are no problems. */
  args: string[];
  problems: DumpArgsProblem[];
  /** Whether the dump ends with mariadb-dump's "-- Dump completed" comment (not with --compact or --skip-comments). */
  endsWithCompletedComment: boolean;
}

/** my_getopt's special_opt_prefix, in its order. */
const SPECIAL_PREFIXES = ['skip', 'disable', 'enable', 'maximum', 'loose'] as const;
const MAX_ARGS = 256;
const MAX_ARG_CHARS = 4096;

/** Client character sets a dump may be written in (MariaDB 10.11's ASCII-compatible ones). */
const CHARSETS = new Set(
  'armscii8 ascii big5 binary cp1250 cp1251 cp1256 cp1257 cp850 cp852 cp866 cp932 dec8 eucjpms euckr gb2312 gbk geostd8 greek hebrew hp8 keybcs2 koi8r koi8u latin1 latin2 latin5 latin7 macce macroman sjis swe7 tis620 ujis utf8 utf8mb3 utf8mb4'.split(' '),
);
const SIZE_LIMITS: Record<'packetBytes' | 'netBufferBytes', [number, number]> = { packetBytes: [4096, 1024 ** 3], netBufferBytes: [4096, 16 * 1024 ** 2] };

/** Options matching a (possibly abbreviated) long name: the exact one, or every one it is a prefix of. */
function lookUp(name: string): DumpOption[] {
  const n = name.replace(/_/g, '-');
  if (n === '') return [];
  const exact = MARIADB_DUMP_OPTIONS.find((o) => o.name === n);
  return exact ? [exact] : MARIADB_DUMP_OPTIONS.filter((o) => o.name.startsWith(n));
}

type Resolved = { option: DumpOption; prefixes: string[] } | { problem: string };

function resolveLong(name: string): Resolved {
  let rest = name;
  const prefixes: string[] = [];
  for (;;) {
    const found = lookUp(rest);
    if (found.length > 1) return { problem: `--${name} is ambiguous (${found.slice(0, 4).map((o) => `--${o.name}`).join(', ')}${found.length > 4 ? ', ...' : ''})` };
    if (found.length === 1) return { option: found[0]!, prefixes };
    const p = SPECIAL_PREFIXES.find((s) => rest.startsWith(s) && (rest[s.length] === '-' || rest[s.length] === '_'));
    if (!p) return { problem: `--${name} is not a mariadb-dump option` };
    prefixes.push(p);
    rest = rest.slice(p.length + 1);
  }
}

function nameProblem(v: string, what: string): string | undefined {
  if (v === '') return `${what} is empty`;
  if ([...v].length > 64) return `${what} is longer than 64 characters`;
  if (/[\u0000-\u001f\u007f]/.test(v)) return `${what} contains a control character`;
  return undefined;
}

/** Checks a value; returns its canonical form or a problem. */
function checkValue(rule: ValueRule, v: string): { value: string } | { problem: string } {
  let problem: string | undefined;
  switch (rule) {
    case 'database':
      problem = nameProblem(v, 'the database name');
      break;
    case 'table': {
      const dot = v.indexOf('.');
      problem = dot < 0 ? 'must be database.table' : (nameProblem(v.slice(0, dot), 'the database name') ?? nameProblem(v.slice(dot + 1), 'the table name'));
      break;
    }
    case 'where': {
      const p = whereConditionProblem(v);
      problem = p && `the condition ${p}`;
      break;
    }
    case 'charset':
      if (!CHARSETS.has(v.toLowerCase())) problem = `${JSON.stringify(v)} is not a known character set`;
      break;
    case 'seconds':
      if (!/^[0-9]{1,9}(\.[0-9]{1,6})?$/.test(v)) problem = 'must be a number of seconds';
      break;
    case 'packetBytes':
    case 'netBufferBytes': {
      const m = /^([0-9]{1,12})([kmgKMG]?)$/.exec(v);
      const bytes = m ? Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase()) : NaN;
      const [min, max] = SIZE_LIMITS[rule];
      if (!(bytes >= min && bytes <= max)) problem = `must be a number of bytes from ${min} to ${max} (suffix K, M or G allowed)`;
      else return { value: String(bytes) };
      break;
    }
  }
  return problem ? { problem } : { value: v };
}

const BOOL_VALUES = new Map([['1', true], ['true', true], ['on', true], ['0', false], ['false', false], ['off', false]]);

/** Parses, checks and canonicalises dump arguments; every problem is reported. */
export function normaliseDumpArgs(input: readonly unknown[]): NormalisedDumpArgs {
  const problems: DumpArgsProblem[] = [];
  const options: string[] = [];
  const positional: string[] = [];
  let comments = true;
  let compact = false;
  if (input.length > MAX_ARGS) problems.push({ index: MAX_ARGS, message: `at most ${MAX_ARGS} arguments are allowed` });
  let endOfOptions = false;
  for (let i = 0; i < Math.min(input.length, MAX_ARGS); i++) {
    const raw = input[i];
    const refuse = (message: string) => problems.push({ index: i, message });
    if (typeof raw !== 'string') {
      refuse('must be a string');
      continue;
    }
    if (raw.length > MAX_ARG_CHARS) {
      refuse(`is longer than ${MAX_ARG_CHARS} characters`);
      continue;
    }
    // The value of an option that takes one: after `=`, or the next argument.
    const takeValue = (option: DumpOption, inline: string | undefined, shown: string): string | undefined => {
      if (inline !== undefined) return inline;
      const next = input[i + 1];
      if (typeof next !== 'string') {
        refuse(`${shown} needs a value`);
        return undefined;
      }
      i++;
      return next;
    };
    const emit = (option: DumpOption, enabled: boolean, value: string | undefined, shown: string, index: number): void => {
      const rule = ALLOWED_DUMP_OPTIONS.get(option.name);
      if (rule === undefined) {
        problems.push({ index, message: `${shown}${shown === `--${option.name}` ? '' : ` (--${option.name})`} is not allowed: ${refusalReason(option.name)}` });
        return;
      }
      if (option.kind === 'bool') {
        options.push(enabled ? `--${option.name}` : `--skip-${option.name}`);
        if (option.name === 'comments') comments = enabled;
        if (option.name === 'compact') {
          compact = enabled;
          if (enabled) comments = false;
        }
      } else if (option.kind === 'flag') {
        options.push(`--${option.name}`);
      } else if (value !== undefined && rule) {
        const checked = checkValue(rule, value);
        if ('problem' in checked) problems.push({ index, message: `${shown}: ${checked.problem}` });
        else options.push(`--${option.name}=${checked.value}`);
      }
    };

    if (endOfOptions || raw === '-' || !raw.startsWith('-')) {
      if (raw.startsWith('-')) refuse(`${JSON.stringify(raw)}: a database or table name must not start with "-"`);
      else {
        const p = nameProblem(raw, 'the name');
        if (p) refuse(p);
        else positional.push(raw);
      }
      continue;
    }
    if (raw === '--') {
      endOfOptions = true;
      continue;
    }
    if (raw.startsWith('--')) {
      const eq = raw.indexOf('=');
      const name = eq < 0 ? raw.slice(2) : raw.slice(2, eq);
      const inline = eq < 0 ? undefined : raw.slice(eq + 1);
      const r = resolveLong(name);
      if ('problem' in r) {
        refuse(r.problem);
        continue;
      }
      const { option, prefixes } = r;
      const shown = `--${name}`;
      const polarity = prefixes.filter((p) => p !== 'loose');
      if (!ALLOWED_DUMP_OPTIONS.has(option.name)) {
        emit(option, true, undefined, shown, i);
        if (option.kind === 'value' && inline === undefined) i++; // its value is not a name
        continue;
      }
      if (polarity.includes('maximum')) refuse(`${shown}: --maximum- is not allowed`);
      else if (polarity.length > 1) refuse(`${shown}: more than one of --skip-, --enable-, --disable- is not allowed`);
      else if (polarity.length === 1 && option.kind !== 'bool') refuse(`${shown}: --${polarity[0]}- applies only to on/off options`);
      else if (polarity.length === 1 && inline !== undefined) refuse(`${shown}: takes no value`);
      else if (option.kind === 'bool') {
        const enabled = inline === undefined ? polarity[0] !== 'skip' && polarity[0] !== 'disable' : BOOL_VALUES.get(inline.toLowerCase());
        if (enabled === undefined) refuse(`${shown}: ${JSON.stringify(inline)} is not 0, 1, true, false, on or off`);
        else emit(option, enabled, undefined, shown, i);
      } else if (option.kind === 'flag') {
        if (inline !== undefined) refuse(`${shown}: takes no value`);
        else emit(option, true, undefined, shown, i);
      } else {
        const start = i;
        const value = takeValue(option, inline, shown);
        if (value !== undefined) emit(option, true, value, shown, start);
      }
      continue;
    }
    // Short options: -AR bundles flags; -wCOND or -w COND gives a value.
    for (let j = 1; j < raw.length; j++) {
      const c = raw[j]!;
      const option = MARIADB_DUMP_OPTIONS.find((o) => o.short === c);
      if (!option) {
        refuse(`-${c} is not a mariadb-dump option`);
        break;
      }
      if (option.kind === 'value' || option.kind === 'optional') {
        const start = i;
        const rest = raw.slice(j + 1);
        if (!ALLOWED_DUMP_OPTIONS.has(option.name)) {
          emit(option, true, undefined, `-${c}`, i);
          if (option.kind === 'value' && rest === '') i++; // its value is not a name
        } else {
          const value = takeValue(option, rest === '' ? undefined : rest, `-${c}`);
          if (value !== undefined) emit(option, true, value, `-${c}`, start);
        }
        break;
      }
      emit(option, true, undefined, `-${c}`, i);
    }
  }
  return { args: [...options, ...positional], problems, endsWithCompletedComment: comments && !compact };
}

function refusalReason(name: string): string {
  if (/^(host|port|socket|protocol|user|password|pipe|compress|ssl.*|tls-version)$/.test(name)) return 'the agent sets the connection and credentials itself';
  if (/^(result-file|tab|log-error|character-sets-dir|debug.*|fields-.*|lines-terminated-by|header)$/.test(name)) return 'it writes or reads files';
  if (/^(plugin-dir|default-auth)$/.test(name)) return 'it loads client plugins';
  if (/^(master-data|dump-slave|delete-master-logs|flush-logs|flush-privileges|apply-slave-statements|gtid|include-master-host-port|galera-info)$/.test(name)) return 'it acts on the server or its replication, or puts replication statements into the dump';
  if (name === 'system') return 'it puts users, grants or plugins into the dump, which a restore would apply';
  if (/^(xml|compatible|all-tablespaces)$/.test(name)) return 'the dump would not restore as it is';
  return 'only options a logical backup needs are allowed';
}

/** The canonical arguments, or a SidestashError (DUMP_ARGS_REFUSED) listing every problem. */
export function requireSafeDumpArgs(input: readonly unknown[]): NormalisedDumpArgs {
  const n = normaliseDumpArgs(input);
  if (n.problems.length > 0) {
    const list = n.problems.map((p) => `dumpArgs[${p.index}]: ${p.message}`).join('; ');
    throw new SidestashError(ErrorCodes.DUMP_ARGS_REFUSED, `mariadb-dump arguments refused: ${list}`, { details: { problems: n.problems } });
  }
  return n;
}
