import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { table, terminalText } from './format.ts';

describe('CLI output of server text', () => {
  it('strips escape sequences and control characters from table cells', () => {
    const out = table(['NAME', 'ERROR'], [['s1', 'dump \u001b[31mfailed\u001b[0m\u001b]0;pwned\u0007\rx\nnext']]);
    assert.equal(out, 'NAME  ERROR\ns1    dump failedx next');
    assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(out));
  });

  it('strips them from other printed text', () => {
    assert.equal(terminalText('phase \u009b2JSucceeded\u0007'), 'phase Succeeded');
  });
});
