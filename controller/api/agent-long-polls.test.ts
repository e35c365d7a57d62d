// AgentLongPolls: a newer poll of the same agent ends the older one; other agents' polls are not
// touched; a poll that ended is forgotten, and an older poll's end does not forget the newer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentLongPolls } from './agent-long-polls.ts';

describe('AgentLongPolls', () => {
  it('a newer poll of the same agent ends the older one, not another agent\'s', () => {
    const polls = new AgentLongPolls();
    const first = polls.start('ns/a');
    const other = polls.start('ns/b');
    assert.equal(first.signal.aborted, false);
    const second = polls.start('ns/a');
    assert.equal(first.signal.aborted, true, 'the older poll ends');
    assert.equal(second.signal.aborted, false);
    assert.equal(other.signal.aborted, false, 'another agent\'s poll goes on');
    first.done();
    assert.equal(polls.size, 2, 'the older poll\'s end leaves the newer one registered');
    const third = polls.start('ns/a');
    assert.equal(second.signal.aborted, true, 'the newer one is still ended by a third');
    third.done();
    other.done();
    second.done();
    assert.equal(polls.size, 0, 'ended polls are forgotten');
  });
});
