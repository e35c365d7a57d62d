import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSidestashError } from './errors.ts';
import { matchesLabels, parseLabelSelector } from './label-selector.ts';

const labels = { app: 'shop', tier: 'db', 'example.com/team': 'payments' };

describe('label selectors', () => {
  const table: [string, string, Record<string, string> | undefined, boolean][] = [
    ['empty selects everything', '', labels, true],
    ['key=value', 'app=shop', labels, true],
    ['key==value', 'app==shop', labels, true],
    ['another value', 'app=crm', labels, false],
    ['all must hold', 'app=shop,tier=web', labels, false],
    ['both hold', 'app=shop, tier=db', labels, true],
    ['!= on another value', 'tier!=web', labels, true],
    ['!= on the value', 'tier!=db', labels, false],
    ['!= on an absent key', 'zone!=a', labels, true],
    ['exists', 'tier', labels, true],
    ['exists, absent', 'zone', labels, false],
    ['!key', '!zone', labels, true],
    ['!key, present', '!app', labels, false],
    ['in', 'tier in (web, db)', labels, true],
    ['in, none', 'tier in (web,cache)', labels, false],
    ['notin', 'tier notin (web)', labels, true],
    ['prefixed key', 'example.com/team=payments', labels, true],
    ['no labels at all', 'app=shop', undefined, false],
    ['no labels, !key', '!app', undefined, true],
  ];
  for (const [name, sel, l, want] of table) it(name, () => assert.equal(matchesLabels(parseLabelSelector(sel), l), want));

  const bad: [string, string][] = [
    ['a bad key', 'app$=x'],
    ['a bad value', 'app=sh op'],
    ['a dangling operator', 'app='.concat('=', '=')],
    ['unbalanced parentheses', 'tier in (a,b'],
    ['an empty term', 'app=shop,,tier=db'],
    ['too long', `a=${'x'.repeat(5000)}`],
  ];
  for (const [name, sel] of bad) it(`refuses ${name}`, () => assert.throws(() => parseLabelSelector(sel), (e) => isSidestashError(e, 'SIDESTASH_INVALID_ARGUMENT')));
});
