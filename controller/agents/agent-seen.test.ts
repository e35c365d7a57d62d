// An agent's calls record it as seen at most every twelfth of the lease (5 s at most), not at
// every call: the recorded time is never further behind than that, so "online" (within the lease)
// and a live name's protection read the same.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { it } from 'node:test';
import { createLogger } from '../../common/log.ts';
import { SessionManager } from '../sessions/session-manager.ts';
import { Store } from '../store/store.ts';
import { isAgentOnline, recordsSeen } from './agent-online.ts';
import { AgentRegistry } from './agent-registry.ts';
import { EnrolmentTokens } from './enrolment-tokens.ts';

const quiet = createLogger({}, { level: 'error' });
const LEASE_MS = 60_000;
const T0 = Date.parse('2026-03-01T10:00:00Z');
const seen = (ms: number) => ({ lastSeenAt: new Date(ms).toISOString() });

it('records an agent as seen when the recorded time is a twelfth of the lease old, at most 5 s, or in the future', () => {
  const cases: [lastSeenMs: number, nowMs: number, leaseMs: number, records: boolean][] = [
    [T0, T0, LEASE_MS, false],
    [T0, T0 + 4999, LEASE_MS, false],
    [T0, T0 + 5000, LEASE_MS, true],
    [T0, T0 + 3_600_000, LEASE_MS, true],
    [T0, T0 + 999, 12_000, false], // a 12 s lease: every second
    [T0, T0 + 1000, 12_000, true],
    [T0, T0 + 4999, 600_000, false], // a long lease: still every 5 s
    [T0 + 10_000, T0, LEASE_MS, true], // the clock stepped back
  ];
  for (const [last, now, lease, want] of cases) assert.equal(recordsSeen(seen(last), now, lease), want, `${last - T0} ${now - T0} ${lease}`);
});

it('authenticating writes the agent row at most every 5 s, and the agent stays online throughout', async () => {
  const store = new Store(':memory:');
  const token = 'shop-enrolment-token-0123456789';
  const tokens = new EnrolmentTokens(store, [{ id: 'shop', namespace: 'shop', tokenSha256: createHash('sha256').update(token).digest('hex'), source: 'file' }], quiet);
  const registry = new AgentRegistry(store, new SessionManager(store, quiet, { leaseMs: LEASE_MS }), tokens, LEASE_MS, quiet);
  const req = (t: string) => ({ headers: { authorization: `Bearer ${t}` } }) as unknown as IncomingMessage;
  const reg = await registry.register(req(token), async () => ({ name: 'agent-0', namespace: 'shop', targets: ['shop/db'], version: '1' }), T0);
  let writes = 0;
  const touch = store.touchAgent.bind(store);
  store.touchAgent = (name: string, at: string) => (writes++, touch(name, at));
  for (let ms = 0; ms <= 60_000; ms += 100) {
    registry.authenticate(req(reg.token), 'shop', 'agent-0', T0 + ms);
    const agent = store.getAgent('shop/agent-0')!;
    assert.ok(T0 + ms - Date.parse(agent.lastSeenAt) < 5000, `recorded at most 5 s behind at ${ms} ms`);
    assert.ok(isAgentOnline(agent, T0 + ms, LEASE_MS));
  }
  assert.equal(writes, 12, 'one write every 5 s over a minute (601 calls)');
  store.close();
});
