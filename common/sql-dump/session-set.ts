// The session statements a granular selection lets through: SET of session or user variables to
// literals, @variables or @@variables, the forms mariadb-dump writes (SET NAMES x, SET @OLD_X=@@X,
// X=0, SET sql_mode = '...', SET character_set_client = @saved_cs_client, SET
// SQL_MODE=IFNULL(@OLD_SQL_MODE,'')). No function call (SET @x = shop.f() would run a function of
// another database), no GLOBAL. Follows sql_mode so that later statements are read as the server
// reads them (ANSI_QUOTES, NO_BACKSLASH_ESCAPES); an sql_mode it cannot follow is refused.
import type { SqlModeState, SqlToken } from './sql-tokens.ts';

/** sql_mode values that turn ANSI_QUOTES on (the mode itself and the combinations that include it). */
const ANSI_MODES = new Set(['ANSI_QUOTES', 'ANSI', 'DB2', 'MAXDB', 'MSSQL', 'ORACLE', 'POSTGRESQL']);

export function modeOfLiteral(value: string): SqlModeState {
  const words = value.toUpperCase().split(',').map((w) => w.trim());
  return { ansiQuotes: words.some((w) => ANSI_MODES.has(w)), backslashEscapes: !words.includes('NO_BACKSLASH_ESCAPES') };
}

const word = (t: SqlToken | undefined): string | undefined => (t?.t === 'name' && !t.quoted ? t.v.toUpperCase() : undefined);
const isPunct = (t: SqlToken | undefined, v: string): boolean => t?.t === 'punct' && t.v === v;
/** SET forms that are not a variable assignment. */
const NOT_VARIABLES = new Set(['PASSWORD', 'ROLE', 'DEFAULT', 'TRANSACTION', 'STATEMENT', 'GLOBAL']);
const SQL_MODE_VARS = new Set(['SQL_MODE', '@@SQL_MODE', '@@SESSION.SQL_MODE', '@@LOCAL.SQL_MODE']);

/** Session SETs, in the order the server runs them. */
export class SessionSetFollower {
  mode: SqlModeState;
  #saved = new Map<string, SqlModeState>();

  constructor(initial: SqlModeState) {
    this.mode = { ...initial };
  }

  /**
   * Whether `tokens` (a whole statement) is an allowed session SET; follows it when it is.
   * `conditional`: part of it may not run (sqlTokens' conditional). Returns the problem, or undefined.
   */
  follow(tokens: readonly SqlToken[], conditional = false): string | undefined {
    if (word(tokens[0]) !== 'SET') return 'not a SET statement';
    let i = 1;
    const changes: (() => void)[] = [];
    for (;;) {
      let scope = word(tokens[i]);
      if (scope === 'SESSION' || scope === 'LOCAL') i++;
      else if (scope === 'GLOBAL') return 'SET GLOBAL';
      const target = tokens[i];
      let name: string;
      if (target?.t === 'var') {
        name = target.v.toUpperCase();
        if (name.startsWith('@@GLOBAL.')) return 'SET @@GLOBAL';
        i++;
      } else if (target?.t === 'name') {
        name = target.v.toUpperCase();
        if (!target.quoted && NOT_VARIABLES.has(name)) return `SET ${name}`;
        i++;
        scope = word(target);
        if (scope === 'NAMES' || scope === 'CHARSET' || (scope === 'CHARACTER' && word(tokens[i]) === 'SET')) {
          if (scope === 'CHARACTER') i++;
          if (!this.#literal(tokens[i])) return `${scope}: not a character set name`;
          i++;
          if (word(tokens[i]) === 'COLLATE') {
            if (!this.#literal(tokens[i + 1])) return 'COLLATE: not a collation name';
            i += 2;
          }
          if (i >= tokens.length) break;
          if (!isPunct(tokens[i], ',')) return 'more than names after SET NAMES';
          i++;
          continue;
        }
      } else return 'not a variable assignment';
      if (isPunct(tokens[i], ':') && isPunct(tokens[i + 1], '=')) i += 2;
      else if (isPunct(tokens[i], '=')) i++;
      else return `${name}: not an assignment`;
      const value = this.#value(tokens, i);
      if (!value) return `${name}: the value is not a literal or a variable`;
      i = value.next;
      const savedFromMode = value.variable !== undefined && SQL_MODE_VARS.has(value.variable.toUpperCase().replace(/^@@SESSION\.|^@@LOCAL\./, '@@'));
      if (SQL_MODE_VARS.has(name)) {
        if (conditional) return 'sql_mode set in a /*M! comment (it may not run)';
        let next: SqlModeState | undefined;
        // DEFAULT (the server's) and a number (a bit mask) cannot be followed.
        if (value.literal !== undefined && !(value.bare && /^(?:DEFAULT|[0-9]+)$/i.test(value.literal))) next = modeOfLiteral(value.literal);
        else if (value.variable !== undefined) next = this.#saved.get(value.variable.toUpperCase());
        if (!next) return 'sql_mode set to a value that cannot be followed';
        const m = next;
        changes.push(() => (this.mode = { ...m }));
      } else if (name.startsWith('@') && !name.startsWith('@@')) {
        const v = name;
        if (savedFromMode) changes.push(() => this.#saved.set(v, { ...this.mode }));
        else changes.push(() => this.#saved.delete(v));
      }
      if (i >= tokens.length) break;
      if (!isPunct(tokens[i], ',')) return 'not a list of assignments';
      i++;
    }
    // One statement's assignments take effect left to right; the mode saved in @OLD_SQL_MODE is the one before.
    for (const c of changes) c();
    return undefined;
  }

  #literal(t: SqlToken | undefined): boolean {
    return t !== undefined && (t.t === 'string' || (t.t === 'name' && !t.quoted));
  }

  /** A literal, a variable, -number, or IFNULL(@var, 'literal'). */
  #value(t: readonly SqlToken[], i: number): { next: number; literal?: string; bare?: boolean; variable?: string } | undefined {
    const v = t[i];
    if (v?.t === 'string') return { next: i + 1, literal: v.v };
    if (v?.t === 'var') return { next: i + 1, variable: v.v };
    if (isPunct(v, '-') && t[i + 1]?.t === 'name' && /^[0-9]+$/.test((t[i + 1] as { v: string }).v)) return { next: i + 2 };
    if (v?.t === 'name' && !v.quoted) {
      if (v.v.toUpperCase() === 'IFNULL' && isPunct(t[i + 1], '(') && t[i + 2]?.t === 'var' && isPunct(t[i + 3], ',') && t[i + 4]?.t === 'string' && isPunct(t[i + 5], ')')) {
        // The variable's value when it is set (mariadb-dump's @OLD_SQL_MODE always is).
        return { next: i + 6, variable: (t[i + 2] as { v: string }).v };
      }
      // A call or a qualified name is not a literal.
      if (isPunct(t[i + 1], '(') || isPunct(t[i + 1], '.')) return undefined;
      // A number, a keyword (ON, OFF, DEFAULT, NULL) or a name (utf8mb4).
      return { next: i + 1, literal: v.v, bare: true };
    }
    return undefined;
  }
}
