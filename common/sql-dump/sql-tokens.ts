// The tokens of one SQL statement as the server reads them, for deciding which databases it names:
// whitespace and comments (-- , #, /* */) are skipped, executable comments (/*! */, /*M! */) read
// as their content, strings and quoted names are followed with the session's sql_mode (backslash
// escapes, ANSI_QUOTES). Whatever the server could read in more than one way (an unterminated
// string or comment, '--' before a control character, a comment inside an executable comment, a
// "..." whose end depends on an sql_mode not known) makes the statement undecidable: the caller
// refuses it. Tokens are latin1 strings of the statement's bytes (names compare as their bytes).

export type SqlToken =
  /** `name` (unquoted content) or an unquoted word (keyword, name, number). */
  | { t: 'name'; v: string; quoted: boolean }
  /** "..." that is a name under ANSI_QUOTES and a string otherwise (ansiQuotes unknown). */
  | { t: 'dq'; v: string }
  /** '...' (v: its text between the quotes, escapes as written). */
  | { t: 'string'; v: string }
  /** @user_var, @@var, @@session.var */
  | { t: 'var'; v: string }
  | { t: 'punct'; v: string };

export interface SqlModeState {
  /** Whether backslashes escape in strings. */
  backslashEscapes: boolean;
  /** Whether "..." quotes names; undefined: not known (the server's default sql_mode). */
  ansiQuotes: boolean | undefined;
}

/** conditional: part of it is in a /*M!NNNNNN comment, which runs only on servers at least that new. */
export type Tokenized = { ok: true; tokens: SqlToken[]; conditional: boolean } | { ok: false; problem: string };

const isWordChar = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x24 || c >= 0x80;
const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;

/** The end (index past the closing quote) of a quoted run starting at i, or -1 when it does not end. */
function quotedEnd(s: string, i: number, q: number, backslash: boolean): number {
  for (let k = i + 1; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (backslash && c === 0x5c) {
      k++;
      continue;
    }
    if (c === q) {
      if (s.charCodeAt(k + 1) === q) {
        k++;
        continue;
      }
      return k + 1;
    }
  }
  return -1;
}

export function sqlTokens(s: string, mode: SqlModeState): Tokenized {
  const tokens: SqlToken[] = [];
  let inExec = false;
  let conditional = false;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const c1 = s.charCodeAt(i + 1);
    if (c === 0x2f && c1 === 0x2a) {
      // /* ... */: executable (/*!, /*M!) reads as its content, else a comment.
      if (inExec) return { ok: false, problem: 'a comment inside an executable comment' };
      const c2 = s.charCodeAt(i + 2);
      if (c2 === 0x21 || (c2 === 0x4d && s.charCodeAt(i + 3) === 0x21)) {
        i += c2 === 0x21 ? 3 : 4;
        const from = i;
        while (i < n && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
        // mariadb-dump writes /*!NNNNN and /*M!NNNNNN; other lengths the server may cut elsewhere.
        const digits = i - from;
        if (c2 === 0x21 ? digits !== 0 && digits !== 5 : digits !== 6) return { ok: false, problem: 'an executable comment with an unusual version' };
        // /*M!NNNNNN runs only on servers at least that new: what it sets is not known for sure.
        if (c2 === 0x4d) conditional = true;
        inExec = true;
        continue;
      }
      const end = s.indexOf('*/', i + 2);
      if (end < 0) return { ok: false, problem: 'a comment that does not end' };
      i = end + 2;
      continue;
    }
    if (c === 0x2a && c1 === 0x2f && inExec) {
      inExec = false;
      i += 2;
      continue;
    }
    if (c === 0x23 || (c === 0x2d && c1 === 0x2d && (isSpace(s.charCodeAt(i + 2)) || i + 2 >= n))) {
      const end = s.indexOf('\n', i);
      if (inExec && (end < 0 || s.slice(i, end).includes('*/'))) return { ok: false, problem: 'a line comment inside an executable comment' };
      i = end < 0 ? n : end + 1;
      continue;
    }
    if (c === 0x2d && c1 === 0x2d && s.charCodeAt(i + 2) < 0x20) return { ok: false, problem: "'--' before a control character" };
    if (c === 0x27) {
      const end = quotedEnd(s, i, c, mode.backslashEscapes);
      if (end < 0) return { ok: false, problem: 'a string that does not end' };
      tokens.push({ t: 'string', v: s.slice(i + 1, end - 1) });
      i = end;
      continue;
    }
    if (c === 0x60) {
      const end = quotedEnd(s, i, c, false);
      if (end < 0) return { ok: false, problem: 'a quoted name that does not end' };
      tokens.push({ t: 'name', v: s.slice(i + 1, end - 1).replace(/``/g, '`'), quoted: true });
      i = end;
      continue;
    }
    if (c === 0x22) {
      if (mode.ansiQuotes === false) {
        const end = quotedEnd(s, i, c, mode.backslashEscapes);
        if (end < 0) return { ok: false, problem: 'a string that does not end' };
        tokens.push({ t: 'string', v: s.slice(i + 1, end - 1) });
        i = end;
        continue;
      }
      const end = quotedEnd(s, i, c, false);
      if (end < 0) return { ok: false, problem: 'a quoted name that does not end' };
      const v = s.slice(i + 1, end - 1);
      // Read as a string with backslash escapes, it could end elsewhere.
      if (mode.ansiQuotes === undefined && mode.backslashEscapes && v.includes('\\')) return { ok: false, problem: 'a "..." with a backslash while ANSI_QUOTES is not known' };
      tokens.push(mode.ansiQuotes ? { t: 'name', v: v.replace(/""/g, '"'), quoted: true } : { t: 'dq', v: v.replace(/""/g, '"') });
      i = end;
      continue;
    }
    if (c === 0x40) {
      // @var, @'var', @`var`, @@var, @@session.var
      let k = i + 1;
      if (s.charCodeAt(k) === 0x40) k++;
      const q = s.charCodeAt(k);
      if (q === 0x27 || q === 0x22 || q === 0x60) {
        const end = quotedEnd(s, k, q, q !== 0x60 && mode.backslashEscapes);
        if (end < 0) return { ok: false, problem: 'a variable name that does not end' };
        tokens.push({ t: 'var', v: s.slice(i, end) });
        i = end;
        continue;
      }
      while (k < n && (isWordChar(s.charCodeAt(k)) || (s.charCodeAt(k) === 0x2e && s.charCodeAt(i + 1) === 0x40))) k++;
      tokens.push({ t: 'var', v: s.slice(i, k) });
      i = k;
      continue;
    }
    if (isWordChar(c)) {
      let k = i + 1;
      while (k < n && isWordChar(s.charCodeAt(k))) k++;
      tokens.push({ t: 'name', v: s.slice(i, k), quoted: false });
      i = k;
      continue;
    }
    tokens.push({ t: 'punct', v: s[i]! });
    i++;
  }
  if (inExec) return { ok: false, problem: 'an executable comment that does not end' };
  return { ok: true, tokens, conditional };
}

const NUMBER = /^[0-9]+$/;

/** Whether a token could be the database of `x.y` (a name, or "x" under ANSI_QUOTES). */
function couldBeName(t: SqlToken | undefined): t is Extract<SqlToken, { t: 'name' } | { t: 'dq' }> {
  if (!t) return false;
  if (t.t === 'dq') return true;
  return t.t === 'name' && (t.quoted || !NUMBER.test(t.v));
}

/** Every qualifier of the statement: x in x.y, `x`.`y`, "x".y (also table qualifiers of columns). */
export function qualifiers(tokens: readonly SqlToken[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.t !== 'punct' || t.v !== '.') continue;
    const prev = tokens[i - 1];
    if (couldBeName(prev)) out.push(prev.v);
  }
  return out;
}
