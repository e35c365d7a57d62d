// "did you mean X?" for a mistyped command, option or field: the known names closest to what
// was typed by optimal-string-alignment distance (Levenshtein with adjacent transpositions, so
// "aplpy" is one edit from "apply"), within about 40% of the typed length, as git and
// commander suggest.

export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest known names (ties all returned, in the order given), or none when nothing is close. */
export function closestNames(typed: string, known: Iterable<string>): string[] {
  const t = typed.toLowerCase();
  const limit = Math.max(1, Math.floor(t.length * 0.4));
  let best = Infinity;
  let out: string[] = [];
  for (const name of new Set(known)) {
    const d = editDistance(t, name.toLowerCase());
    if (d > limit || d > best) continue;
    if (d < best) {
      best = d;
      out = [];
    }
    out.push(name);
  }
  return out;
}

/** " (did you mean X?)" / " (did you mean X or Y?)", or '' when nothing is close. */
export function didYouMean(typed: string, known: Iterable<string>): string {
  const names = closestNames(typed, known);
  if (names.length === 0) return '';
  return ` (did you mean ${names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`}?)`;
}
