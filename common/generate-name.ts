// Session names as Kubernetes' generateName makes them: the prefix, cut so that the whole has at
// most 63 characters (a DNS label when the prefix has no dots), and 5 random characters from the alphabet Kubernetes
// uses (no vowels, no 0/1/3: no words, nothing to misread). 27^5 (14 million) names per prefix:
// a collision is rare, and the store refuses one, so callers try again.
import { randomInt } from 'node:crypto';

export const NAME_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export const NAME_SUFFIX_LENGTH = 5;
export const MAX_GENERATED_NAME_LENGTH = 63;

/** `prefix` (e.g. "nightly-") plus a random suffix; `random(n)` is an integer in [0, n). */
export function generateName(prefix: string, random: (n: number) => number = randomInt): string {
  // A name must start with a letter or digit and may not end in "." before the suffix.
  const cut = prefix.slice(0, MAX_GENERATED_NAME_LENGTH - NAME_SUFFIX_LENGTH).replace(/\.+$/, '');
  let suffix = '';
  for (let i = 0; i < NAME_SUFFIX_LENGTH; i++) suffix += NAME_SUFFIX_ALPHABET[random(NAME_SUFFIX_ALPHABET.length)];
  return `${cut}${suffix}`;
}

/** Generates names until `taken` says one is free (a handful of tries at most, in practice one). */
export function freeName(prefix: string, taken: (name: string) => boolean, random?: (n: number) => number): string {
  for (let i = 0; i < 100; i++) {
    const name = generateName(prefix, random);
    if (!taken(name)) return name;
  }
  throw new Error(`no free name with prefix ${JSON.stringify(prefix)} after 100 tries`);
}
