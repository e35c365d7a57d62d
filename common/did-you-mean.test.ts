import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closestNames, didYouMean, editDistance } from './did-you-mean.ts';

describe('editDistance', () => {
  const table: [string, string, number][] = [
    ['', '', 0], ['apply', 'apply', 0], ['aply', 'apply', 1], ['aplpy', 'apply', 1], ['applyy', 'apply', 1], ['kitten', 'sitting', 3], ['', 'abc', 3],
  ];
  for (const [a, b, d] of table) it(`${a} -> ${b} = ${d}`, () => assert.equal(editDistance(a, b), d));
});

describe('closestNames / didYouMean', () => {
  const commands = ['apply', 'get', 'describe', 'delete', 'backup', 'restore', 'snapshots', 'cancel', 'wait'];
  const table: [string, string[]][] = [
    ['aply', ['apply']], ['snapshot', ['snapshots']], ['restroe', ['restore']], ['dlete', ['delete']], ['xyz', []], ['deleet', ['delete']], ['Describ', ['describe']], ['gt', ['get']], ['zzzzzzzz', []],
  ];
  for (const [typed, want] of table) it(`${typed} -> ${want.join(',') || 'nothing'}`, () => assert.deepEqual(closestNames(typed, commands), want));
  it('phrases one, several and no suggestion', () => {
    assert.equal(didYouMean('scheduel', ['schedule', 'paused']), ' (did you mean schedule?)');
    assert.equal(didYouMean('at', ['a', 'b', 'cat', 'bat']), ' (did you mean a, cat or bat?)');
    assert.equal(didYouMean('qqqq', ['schedule']), '');
  });
});
