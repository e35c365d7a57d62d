// The real agent process when it cannot register: its log names the URL and the cause (a port
// with nothing listening, a host name that does not resolve, a certificate it does not trust),
// and a token the controller refuses is an error that backs off from 5 s (not a warning every
// second or two), counted in the agent's log over a fixed window.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAgent, startController } from './helpers/stack.ts';
import type { ControllerProc, Proc } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

interface LogLine {
  time: string;
  level: string;
  msg: string;
  url?: string;
  cause?: string;
  err?: string;
  hint?: string;
  status?: number;
  retryInMs?: number;
}

function registrationFailures(file: string): LogLine[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine)
    .filter((l) => l.msg.startsWith('registration failed'));
}

/** Polls the agent's log until it holds `count` failed registrations (a bound of 30 s, not a duration under test). */
async function failures(agent: Proc, count: number): Promise<LogLine[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const lines = registrationFailures(agent.logFile);
    if (lines.length >= count) return lines;
    if (agent.child.exitCode !== null) throw new Error(`agent exited: ${readFileSync(agent.logFile, 'utf8')}`);
    if (Date.now() > deadline) throw new Error(`fewer than ${count} failed registrations in ${agent.logFile}: ${readFileSync(agent.logFile, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('agent: an unreachable controller and a refused token (agent process)', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let controller: ControllerProc;
  const agents: Proc[] = [];
  const agent = async (name: string, env: Record<string, string>): Promise<Proc> => {
    const d = join(dir.path, name);
    await mkdir(d);
    const a = startAgent(d, controller, ['default/db'], { SIDESTASH_AGENT_NAME: name, ...env });
    agents.push(a);
    return a;
  };

  before(async () => {
    dir = await tempDir();
    controller = await startController(join(dir.path));
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await controller?.stop();
    await dir?.cleanup();
  });

  it('a port with nothing listening: the URL and "connection refused"', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const a = await agent('agent-refused', { SIDESTASH_CONTROLLER_URL: `https://127.0.0.1:${port}` });
    const [first] = await failures(a, 1);
    assert.equal(first!.url, `https://127.0.0.1:${port}/api/v1/agents/register`);
    assert.equal(first!.cause, 'refused');
    assert.equal(first!.level, 'warn');
    assert.match(first!.err!, new RegExp(`^cannot reach the controller at https://127\\.0\\.0\\.1:${port}/api/v1/agents/register: .*refused`, 'i'));
    assert.match(first!.hint!, /running and listening/);
  });

  it('a host name that does not resolve: the URL and the DNS failure', async () => {
    const a = await agent('agent-dns', { SIDESTASH_CONTROLLER_URL: 'https://nonexistent.invalid:7480' });
    const [first] = await failures(a, 1);
    assert.equal(first!.url, 'https://nonexistent.invalid:7480/api/v1/agents/register');
    assert.equal(first!.cause, 'dns');
    assert.match(first!.err!, process.versions.deno ? /dns error/ : /DNS lookup of nonexistent\.invalid failed \((ENOTFOUND|EAI_AGAIN)\)/);
    assert.match(first!.hint!, /host name in SIDESTASH_CONTROLLER_URL/);
  });

  it('a TLS server whose certificate it does not trust: an error naming the TLS reason', async () => {
    // The controller's own generated certificate, with no SIDESTASH_CONTROLLER_CA_FILE given.
    const a = await agent('agent-untrusted', { SIDESTASH_CONTROLLER_CA_FILE: '' });
    const [first] = await failures(a, 1);
    assert.equal(first!.url, `${controller.url}/api/v1/agents/register`);
    assert.equal(first!.cause, 'tls');
    assert.equal(first!.level, 'error');
    assert.match(first!.err!, process.versions.deno ? /TLS: .*(UnknownIssuer|certificate)/ : /TLS: unable to verify the first certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/);
    assert.match(first!.hint!, /SIDESTASH_CONTROLLER_CA_FILE/);
  });

  it('a wrong enrolment token: an error that backs off (2 attempts in the first 5 s, 5 s then 10 s)', async () => {
    const a = await agent('agent-wrong-token', { SIDESTASH_AGENT_BOOTSTRAP_TOKEN: 'wrong-token-0123456789abcdef' });
    const lines = await failures(a, 2);
    const [first, second] = lines as [LogLine, LogLine];
    for (const l of [first, second]) {
      assert.equal(l.level, 'error');
      assert.equal(l.status, 401);
      assert.equal(l.url, `${controller.url}/api/v1/agents/register`);
      assert.match(l.err!, /answered 401: a valid agent enrolment token is required/);
      assert.match(l.hint!, /SIDESTASH_AGENT_BOOTSTRAP_TOKEN/);
    }
    assert.deepEqual([first.retryInMs, second.retryInMs], [5_000, 10_000]);
    // The fixed window: the 5 s after the first refusal hold the one retry at its end, no more
    // (the old loop made four attempts in that time, and went on every 30 s at most).
    const gapMs = Date.parse(second.time) - Date.parse(first.time);
    assert.ok(gapMs >= 4_900, `second attempt ${gapMs} ms after the first`);
    assert.equal(registrationFailures(a.logFile).filter((l) => Date.parse(l.time) < Date.parse(first.time) + 5_000 + 1_000).length, 2);
  });
});
