// An offline backup's report that the controller answers but cannot take now (503: it cannot
// reach the repository to check the snapshot) does not hold back new work: the agent asks for
// its next session meanwhile (a restore may be waiting) and sends the report again at the next
// poll. A controller that cannot be reached at all still gets nothing but the report.
// (A stand-in controller that speaks the agent protocol; the agent's state holds one report.)
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { SidecarAgent } from '../agent/agent.ts';
import { parseAgentConfig } from '../agent/config.ts';
import { AgentStateStore } from '../agent/offline/agent-state.ts';
import { createLogger } from '../common/log.ts';
import { tempDir } from './helpers/tmp.ts';

const TOKEN = 'enrolment-token-0123456789';
let dir: { path: string; cleanup: () => Promise<void> };
before(async () => (dir = await tempDir()));
after(async () => dir?.cleanup());

it('a report answered 503 is sent again later, and the agent polls meanwhile', async () => {
  const stateDir = join(dir.path, 'state');
  const quiet = createLogger({}, { level: 'error' });
  const state = new AgentStateStore(stateDir, Buffer.from(TOKEN, 'utf8'), 'default/agent-0', quiet);
  await state.update((s) => void s.pendingReports.push({ configuration: 'nightly', configurationUid: 'u1', scheduledAt: '2026-12-02T03:00:00.000Z', startedAt: '2026-12-02T03:00:01.000Z', result: { phase: 'Succeeded', snapshotId: 'a'.repeat(64) } }));
  const calls: string[] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    calls.push(`${req.method} ${path.replace(/^\/api\/v1\/agents\/(default\/agent-0\/)?/, '')}`);
    req.resume();
    req.on('end', () => {
      const json = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (path.endsWith('/register')) return json(200, { name: 'agent-0', namespace: 'default', targets: ['default/db'], token: 'agent-token-0123456789', heartbeatIntervalMs: 60_000, leaseMs: 60_000 });
      if (path.endsWith('/offline-sessions')) return json(503, { error: { code: 'SIDESTASH_BACKEND_IO', message: 'cannot check the reported snapshot now: the repository is down' } });
      if (path.endsWith('/sessions/next')) return void setTimeout(() => res.writeHead(204).end(), 200);
      if (path.endsWith('/offline-plan')) return json(200, { configurations: [] });
      if (path.endsWith('/binlog-archives')) return json(200, { archives: [] });
      return json(200, { ok: true });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = parseAgentConfig({ SIDESTASH_CONTROLLER_URL: url, SIDESTASH_INSECURE_HTTP: 'true', SIDESTASH_AGENT_BOOTSTRAP_TOKEN: TOKEN, SIDESTASH_AGENT_NAME: 'agent-0', SIDESTASH_AGENT_NAMESPACE: 'default', SIDESTASH_AGENT_TARGETS: 'default/db', SIDESTASH_TMPDIR: dir.path, SIDESTASH_STATE_DIR: stateDir });
  const ac = new AbortController();
  const running = new SidecarAgent(config, quiet).run(ac.signal);
  try {
    const deadline = Date.now() + 20_000;
    while (calls.filter((c) => c === 'POST offline-sessions').length < 2 || !calls.includes('GET sessions/next')) {
      assert.ok(Date.now() < deadline, `calls: ${calls.join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Polled after the first refusal, and the report was sent again after that poll.
    const firstReport = calls.indexOf('POST offline-sessions');
    const poll = calls.indexOf('GET sessions/next', firstReport);
    assert.ok(poll > firstReport && calls.indexOf('POST offline-sessions', poll) > poll, calls.join(', '));
  } finally {
    ac.abort();
    await running;
    server.close();
  }
  // Still kept for the next time.
  const kept = new AgentStateStore(stateDir, Buffer.from(TOKEN, 'utf8'), 'default/agent-0', quiet);
  await kept.load();
  assert.equal(kept.state.pendingReports.length, 1);
});
