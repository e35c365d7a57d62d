import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_GENERATED_NAME_LENGTH, freeName, generateName } from './generate-name.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

describe('generateName', () => {
  const cases: [string, string, string][] = [
    ['a short prefix keeps its whole', 'nightly-', 'nightly-'],
    ['a long prefix is cut to 58 characters', `${'a'.repeat(70)}-`, 'a'.repeat(58)],
    ['a cut that ends in a dot drops the dots', `${'a'.repeat(56)}..b-`, 'a'.repeat(56)],
    ['restore names', 'restore-shop-db-', 'restore-shop-db-'],
  ];
  for (const [what, prefix, kept] of cases) {
    it(what, () => {
      const name = generateName(prefix);
      assert.ok(name.startsWith(kept) && name.length === kept.length + 5, name);
      assert.ok(name.length <= MAX_GENERATED_NAME_LENGTH);
      assert.match(name, DNS_LABEL);
      assert.match(name.slice(-5), /^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    });
  }

  it('draws each suffix character at random', () => {
    let i = 0;
    assert.equal(generateName('x-', () => i++), 'x-bcdfg');
    const names = new Set(Array.from({ length: 200 }, () => generateName('x-')));
    assert.ok(names.size > 190, `${names.size} distinct names of 200`);
  });

  it('freeName tries again while a name is taken', () => {
    const seq = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
    let i = 0;
    assert.equal(freeName('x-', (n) => n === 'x-bbbbb', () => seq[i++]!), 'x-ccccc');
  });
});
