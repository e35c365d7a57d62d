// The VALUES of an INSERT as mariadb-dump writes them: rows of literals only (strings, numbers,
// NULL, 0x.., x'..', b'..', _charset '..'), so that restoring rows runs nothing else (no function
// of another database, no subquery). One pass over the text; no comments, names or variables.

const NUMBER = /^(?:0x[0-9A-Fa-f]*|0b[01]*|[0-9]+(?:[eE][0-9]*)?)$/;

const isWordChar = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x24 || c >= 0x80;

/** The problem with `text` from `from` on as rows of literals, or undefined. */
export function literalRowsProblem(text: string, from: number, backslashEscapes: boolean): string | undefined {
  const n = text.length;
  let i = from;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x27) {
      // '...': to its closing quote.
      let k = i + 1;
      for (;;) {
        if (k >= n) return 'a string that does not end';
        const d = text.charCodeAt(k);
        if (backslashEscapes && d === 0x5c) k += 2;
        else if (d === 0x27) {
          if (text.charCodeAt(k + 1) === 0x27) k += 2;
          else break;
        } else k++;
      }
      i = k + 1;
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x28 || c === 0x29 || c === 0x2c || c === 0x2b || c === 0x2e) {
      i++;
      continue;
    }
    if (c === 0x2d) {
      if (text.charCodeAt(i + 1) === 0x2d) return "'--'";
      i++;
      continue;
    }
    if (isWordChar(c)) {
      let k = i + 1;
      while (k < n && isWordChar(text.charCodeAt(k))) k++;
      const word = text.slice(i, k);
      const next = text.charCodeAt(k);
      if (NUMBER.test(word) || word.toUpperCase() === 'NULL') {
        i = k;
        continue;
      }
      // x'..', b'..', n'..' and _charset '..' introduce a string.
      if (next === 0x27 && /^[xXbBnN]$/.test(word)) {
        i = k;
        continue;
      }
      if (/^_[A-Za-z0-9]{1,64}$/.test(word)) {
        let j = k;
        while (text.charCodeAt(j) === 0x20) j++;
        if (text.charCodeAt(j) === 0x27) {
          i = j;
          continue;
        }
      }
      return `the word ${JSON.stringify(word.slice(0, 40))}`;
    }
    return `the character ${JSON.stringify(text[i])}`;
  }
  return undefined;
}
