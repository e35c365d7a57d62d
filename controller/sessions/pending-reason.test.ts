// pendingReason on tables: what a Pending session says it waits for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pendingReason } from './pending-reason.ts';
import type { PendingReasonCode, PendingReasonInput } from './pending-reason.ts';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const MIN = 60_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const agent = (targets: string[], lastSeenMs = T0, name = 'default/agent-0') => ({ name, targets, lastSeenAt: iso(lastSeenMs) });
const base: PendingReasonInput = { target: 'default/db', agents: [], running: [], ahead: [], nowMs: T0, onlineMs: MIN };
const backup = (name: string) => ({ kind: 'BackupSession' as const, namespace: 'default', name });
const restore = (name: string) => ({ kind: 'RestoreSession' as const, namespace: 'default', name });

describe('pendingReason', () => {
  const table: [string, Partial<PendingReasonInput>, PendingReasonCode, RegExp][] = [
    ['its configuration does not exist', { target: undefined, missing: 'BackupConfiguration default/gone', agents: [agent(['default/db'])] }, 'TargetMissing', /^BackupConfiguration default\/gone does not exist$/],
    ['no agent at all', {}, 'NoAgent', /^no agent serves default\/db \(none has it in SIDESTASH_AGENT_TARGETS\)$/],
    ['agents serve other targets only', { agents: [agent(['default/other']), agent(['team-a/db'], T0, 'team-a/agent-0')] }, 'NoAgent', /^no agent serves default\/db/],
    ['the serving agent was last seen one lease ago', { agents: [agent(['default/db'], T0 - MIN)] }, 'AgentOffline', /^no online agent serves default\/db \(agent default\/agent-0 last seen 2026-03-01T09:59:00.000Z\)$/],
    ['the serving agent runs another session', { agents: [agent(['default/db', 'default/other'])], running: [{ ...backup('other-abcde'), agent: 'default/agent-0' }] }, 'AgentBusy', /^agent default\/agent-0 is busy with backupsession default\/other-abcde$/],
    ['an offline agent is not counted as busy or idle', { agents: [agent(['default/db'], T0 - 2 * MIN, 'default/old'), agent(['default/db'])], running: [{ ...restore('r'), agent: 'default/agent-0' }] }, 'AgentBusy', /^agent default\/agent-0 is busy with restoresession default\/r$/],
    ['one of two online agents is idle', { agents: [agent(['default/db']), agent(['default/db'], T0, 'default/agent-1')], running: [{ ...restore('r'), agent: 'default/agent-0' }] }, 'WaitingForAgent', /^waiting for agent default\/agent-1 to take it$/],
    ['an older session of the target goes first', { agents: [agent(['default/db'])], ahead: [restore('first'), backup('second')] }, 'Queued', /^queued behind restoresession default\/first and 1 more$/],
    ['busy wins over queued', { agents: [agent(['default/db'])], running: [{ ...backup('b'), agent: 'default/agent-0' }], ahead: [restore('first')] }, 'AgentBusy', /busy with backupsession default\/b/],
    ['an idle online agent takes it next', { agents: [agent(['default/db'])] }, 'WaitingForAgent', /^waiting for agent default\/agent-0 to take it$/],
    ['an unparseable lastSeenAt is offline', { agents: [{ name: 'default/a', targets: ['default/db'], lastSeenAt: 'garbage' }] }, 'AgentOffline', /agent default\/a last seen garbage/],
  ];
  for (const [what, over, reason, message] of table) {
    it(what, () => {
      const r = pendingReason({ ...base, ...over });
      assert.equal(r.reason, reason);
      assert.match(r.message, message);
    });
  }
});
