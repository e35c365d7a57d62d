// The agent's encrypted state file (state-file.ts, agent-state.ts): what it holds opens only
// with the same key material and agent identity, damage is detected, no secret is stored in
// clear, the file is the agent's alone (0600), and an unreadable file is replaced, not fatal.
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { createLogger } from '../../common/log.ts';
import { tempDir } from '../../test/helpers/tmp.ts';
import { AgentStateStore } from './agent-state.ts';
import { STATE_FILE_NAME, openState, sealState } from './state-file.ts';

const key = Buffer.from('k'.repeat(40));
const secret = 'db-password-that-must-not-leak';
let dir: { path: string; cleanup: () => Promise<void> };
before(async () => (dir = await tempDir()));
after(async () => dir?.cleanup());

it('opens with the same key and identity only; any changed byte is detected', () => {
  const sealed = sealState({ password: secret }, key, 'default/agent-0');
  assert.ok(!sealed.includes(secret));
  assert.deepEqual(openState(sealed, key, 'default/agent-0'), { password: secret });
  const refused = (s: string, k: Buffer, id: string, what: string): void => {
    assert.throws(() => openState(s, k, id), (err) => isSidestashError(err, ErrorCodes.INVALID_CONFIG), what);
  };
  refused(sealed, Buffer.from('x'.repeat(40)), 'default/agent-0', 'another key');
  refused(sealed, key, 'default/agent-1', 'another agent');
  const env = JSON.parse(sealed) as { data: string };
  const data = Buffer.from(env.data, 'base64');
  data[3] = data[3]! ^ 1;
  refused(JSON.stringify({ ...env, data: data.toString('base64') }), key, 'default/agent-0', 'a flipped bit');
  refused('not json', key, 'default/agent-0', 'not JSON');
  // Two writes of the same state differ (fresh salt and nonce).
  assert.notEqual(sealState({ a: 1 }, key, 'x'), sealState({ a: 1 }, key, 'x'));
});

it('the store keeps its state across restarts in a 0600 file without secrets in clear; an unreadable file is replaced', async () => {
  const log = createLogger({}, { level: 'error' });
  const a = new AgentStateStore(dir.path, key, 'default/agent-0', log);
  await a.load();
  await a.update((s) => {
    s.lastSlotMs.u1 = 42;
    s.plan = { configurations: [{ name: 'c', uid: 'u1', schedule: '* * * * *', jitterMs: 0, assignment: { database: { username: 'u', password: secret } } as never }], fetchedAt: '2026-12-02T00:00:00Z' };
  });
  const file = join(dir.path, STATE_FILE_NAME);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.ok(!(await readFile(file, 'utf8')).includes(secret));
  const b = new AgentStateStore(dir.path, key, 'default/agent-0', log);
  await b.load();
  assert.equal(b.state.lastSlotMs.u1, 42);
  assert.equal(b.state.plan?.configurations[0]?.uid, 'u1');
  // With another key (the token changed): logged, started empty, and the next write replaces it.
  const c = new AgentStateStore(dir.path, Buffer.from('z'.repeat(40)), 'default/agent-0', log);
  await c.load();
  assert.equal(c.state.plan, undefined);
  await writeFile(file, 'garbage');
  const d = new AgentStateStore(dir.path, key, 'default/agent-0', log);
  await d.load();
  await d.update((s) => void (s.lastSlotMs.u2 = 1));
  const e = new AgentStateStore(dir.path, key, 'default/agent-0', log);
  await e.load();
  assert.deepEqual(e.state.lastSlotMs, { u2: 1 });
});
