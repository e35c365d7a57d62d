// pendingOutcome on tables: when a Pending session has waited too long for an online agent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes } from '../../common/errors.ts';
import { pendingOutcome } from './pending-outcome.ts';
import type { PendingInput } from './pending-outcome.ts';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const MIN = 60_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const agent = (targets: string[], lastSeenMs: number, name = 'default/agent-0') => ({ name, targets, lastSeenAt: iso(lastSeenMs) });
const base: PendingInput = { target: 'default/db', createdAtMs: T0, watchingSinceMs: T0 - 60 * MIN, agents: [], nowMs: T0, onlineMs: MIN, timeoutMs: 5 * MIN };

describe('pendingOutcome', () => {
  const table: [string, Partial<PendingInput>, 'wait' | 'fail', boolean?][] = [
    ['no agent at all, just created', {}, 'wait'],
    ['no agent at all, exactly at the timeout', { nowMs: T0 + 5 * MIN }, 'wait'],
    ['no agent at all, past the timeout', { nowMs: T0 + 5 * MIN + 1 }, 'fail'],
    ['an online agent serves the target, long after creation (a busy agent keeps its queue)', { nowMs: T0 + 600 * MIN, agents: [agent(['default/db'], T0 + 600 * MIN - 1000)] }, 'wait', true],
    ['an online agent serves other targets only', { nowMs: T0 + 6 * MIN, agents: [agent(['default/other'], T0 + 6 * MIN)] }, 'fail'],
    ['an agent of the same name in another namespace does not serve it', { nowMs: T0 + 6 * MIN, agents: [agent(['team-a/db'], T0 + 6 * MIN, 'team-a/agent-0')] }, 'fail'],
    ['the serving agent went quiet 4 minutes ago (counted from its last report)', { nowMs: T0 + 20 * MIN, agents: [agent(['default/db'], T0 + 16 * MIN)] }, 'wait'],
    ['the serving agent went quiet 6 minutes ago', { nowMs: T0 + 20 * MIN, agents: [agent(['default/db'], T0 + 14 * MIN)] }, 'fail'],
    ['the serving agent is just offline (lastSeenAt exactly one lease ago), session new', { nowMs: T0 + MIN, agents: [agent(['default/db'], T0)] }, 'wait', false],
    ['an agent that deregistered 2 minutes ago is remembered', { nowMs: T0 + 20 * MIN, rememberedServedAtMs: T0 + 18 * MIN }, 'wait'],
    ['an agent remembered 6 minutes ago', { nowMs: T0 + 20 * MIN, rememberedServedAtMs: T0 + 14 * MIN }, 'fail'],
    ['a session created after the agent went quiet counts from its creation', { createdAtMs: T0 + 10 * MIN, nowMs: T0 + 14 * MIN, agents: [agent(['default/db'], T0)] }, 'wait'],
    ['a controller restarted 4 minutes ago gives an old session the rest of the timeout', { createdAtMs: T0 - 600 * MIN, watchingSinceMs: T0 - 4 * MIN, agents: [agent(['default/db'], T0 - 600 * MIN)] }, 'wait'],
    ['a controller restarted 6 minutes ago', { createdAtMs: T0 - 600 * MIN, watchingSinceMs: T0 - 6 * MIN }, 'fail'],
    ['an unparseable lastSeenAt is ignored', { nowMs: T0 + 6 * MIN, agents: [{ name: 'default/a', targets: ['default/db'], lastSeenAt: 'garbage' }] }, 'fail'],
    ['its configuration does not exist, within the timeout', { target: undefined, missing: 'BackupConfiguration default/gone', nowMs: T0 + MIN }, 'wait'],
    ['its configuration does not exist, past the timeout', { target: undefined, missing: 'BackupConfiguration default/gone', nowMs: T0 + 6 * MIN, agents: [agent(['default/db'], T0 + 6 * MIN)] }, 'fail'],
  ];
  for (const [what, over, action, served] of table) {
    it(what, () => {
      const out = pendingOutcome({ ...base, ...over });
      assert.equal(out.action, action);
      if (out.action === 'wait' && served !== undefined) assert.equal(out.served, served);
      if (out.action === 'fail') assert.equal(out.error.code, ErrorCodes.NO_AGENT);
    });
  }

  it('the message names the target, or the missing configuration, and the agents last seen', () => {
    const none = pendingOutcome({ ...base, nowMs: T0 + 6 * MIN });
    assert.ok(none.action === 'fail');
    assert.match(none.error.message, /^no agent serves target default\/db \(waited 300s;/);
    const quiet = pendingOutcome({ ...base, nowMs: T0 + 20 * MIN, agents: [agent(['default/db'], T0 + 14 * MIN)] });
    assert.ok(quiet.action === 'fail');
    assert.match(quiet.error.message, /^no online agent serves target default\/db .*default\/agent-0 last seen 2026-03-01T10:14:00.000Z/);
    const gone = pendingOutcome({ ...base, target: undefined, missing: 'BackupConfiguration default/gone', nowMs: T0 + 6 * MIN });
    assert.ok(gone.action === 'fail');
    assert.match(gone.error.message, /BackupConfiguration default\/gone does not exist/);
  });
});
