// TLS between the parts, with real processes: the controller serves HTTPS with the CA it
// generates (kept across restarts) or a given certificate, plain HTTP only with the insecure
// flag; the agent and the CLI trust the configured CA and nothing else, and refuse http://
// without the flag. Also: a database of the version before encryption, sealed on start.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { api } from '../cli/api-client.ts';
import { makeTestPki } from './helpers/tls.ts';
import { runCli, startAgent, startController } from './helpers/stack.ts';
import type { ControllerProc } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

let dir: { path: string; cleanup: () => Promise<void> };
let controller: ControllerProc;

/** Polls a process's log until it matches, or fails after 30 s. */
async function waitForLog(file: string, pattern: RegExp): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`${file} never matched ${pattern}:\n${text.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const agentNames = async (): Promise<string[]> => (await api<{ items: { name: string }[] }>(controller.api, 'GET', '/api/v1/agents')).items.map((a) => a.name);

before(async () => {
  dir = await tempDir('sidestash-tls-');
  await mkdir(join(dir.path, 'controller'));
  controller = await startController(join(dir.path, 'controller'));
});
after(async () => {
  await controller?.stop();
  await dir?.cleanup();
});

describe('controller over TLS', () => {
  it('serves HTTPS with its generated CA, and nothing over plain HTTP', async () => {
    assert.match(controller.url, /^https:/);
    assert.deepEqual(await api(controller.api, 'GET', '/healthz'), { ok: true });
    await assert.rejects(fetch(`${controller.url.replace('https:', 'http:')}/healthz`), 'no plain HTTP on the API port');
    await assert.rejects(api({ ...controller.api, ca: undefined as unknown as string }, 'GET', '/healthz'), /certificate|UNABLE_TO_VERIFY|SELF_SIGNED/i, 'not trusted without the CA');
    const log = await readFile(controller.logFile, 'utf8');
    assert.match(log, /"msg":"controller listening".*"scheme":"https"/);
  });

  it('lets the CLI in with SIDESTASH_CA_FILE, and refuses an unknown CA or http:// without the flag', async () => {
    const ok = await runCli(['get', 'secrets'], controller.cliEnv);
    assert.equal(ok.code, 0, ok.stderr);
    const { SIDESTASH_CA_FILE: _ca, ...noCa } = controller.cliEnv;
    const untrusted = await runCli(['get', 'secrets'], noCa);
    assert.notEqual(untrusted.code, 0);
    assert.match(untrusted.stderr, /certificate|UNABLE_TO_VERIFY|SELF_SIGNED/i);
    const plain = await runCli(['get', 'secrets'], { ...noCa, SIDESTASH_URL: controller.url.replace('https:', 'http:') });
    assert.notEqual(plain.code, 0);
    assert.match(plain.stderr, /SIDESTASH_INSECURE_HTTP=true/);
  });

  it('registers an agent that trusts its CA', async () => {
    const d = join(dir.path, 'agent-ok');
    await mkdir(d);
    const agent = startAgent(d, controller, ['default/db'], { SIDESTASH_AGENT_NAME: 'agent-trusting' });
    try {
      await waitForLog(agent.logFile, /registered with controller/);
      assert.ok((await agentNames()).some((n) => n.includes('agent-trusting')));
    } finally {
      await agent.stop();
    }
  });

  it('agent refuses a controller whose certificate another CA signed', async () => {
    const d = join(dir.path, 'agent-wrong-ca');
    await mkdir(d);
    const other = await makeTestPki(d);
    const agent = startAgent(d, controller, ['default/db'], { SIDESTASH_AGENT_NAME: 'agent-wrong-ca', SIDESTASH_CONTROLLER_CA_FILE: join(d, 'ca.crt') });
    try {
      assert.ok(other.caCert);
      const log = await waitForLog(agent.logFile, /registration failed/);
      assert.match(log, /certificate|UNABLE_TO_VERIFY|SELF_SIGNED/i);
      assert.doesNotMatch(log, /registered with controller/);
      assert.ok(!(await agentNames()).some((n) => n.includes('agent-wrong-ca')));
    } finally {
      await agent.stop();
    }
  });

  it('agent refuses an http:// controller URL without SIDESTASH_INSECURE_HTTP=true', async () => {
    const r = await runCli(['agent'], { SIDESTASH_CONTROLLER_URL: controller.url.replace('https:', 'http:'), SIDESTASH_AGENT_BOOTSTRAP_TOKEN: controller.bootstrapToken, SIDESTASH_AGENT_NAME: 'agent-plain', SIDESTASH_AGENT_TARGETS: 'default/db' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /SIDESTASH_CONTROLLER_URL: http:\/\/ would send/);
  });

  it('keeps its CA across restarts, so agents keep trusting it', async () => {
    const before = await readFile(controller.caFile!, 'utf8');
    await controller.stop();
    controller = await startController(join(dir.path, 'controller'));
    assert.equal(await readFile(controller.caFile!, 'utf8'), before);
  });
});

describe('controller TLS settings', () => {
  it('refuses to start with a half-given certificate or a non-boolean insecure flag', async () => {
    const base = { SIDESTASH_LISTEN: '127.0.0.1:0', SIDESTASH_DB: join(dir.path, 'refused', 'c.db'), SIDESTASH_ADMIN_TOKEN: 'admin-token-0123456789', SIDESTASH_AGENT_BOOTSTRAP_TOKEN: 'boot-token-0123456789' };
    const half = await runCli(['controller'], { ...base, SIDESTASH_TLS_CERT_FILE: join(dir.path, 'controller', 'api.crt') });
    assert.notEqual(half.code, 0);
    assert.match(half.stderr, /SIDESTASH_TLS_CERT_FILE and SIDESTASH_TLS_KEY_FILE: set both/);
    const flag = await runCli(['controller'], { ...base, SIDESTASH_INSECURE_HTTP: 'yes' });
    assert.notEqual(flag.code, 0);
    assert.match(flag.stderr, /SIDESTASH_INSECURE_HTTP: must be \\"true\\" or \\"false\\"/);
    const webhook = await runCli(['controller'], { ...base, SIDESTASH_WEBHOOK_LISTEN: '127.0.0.1:0', SIDESTASH_WEBHOOK_DNS_NAMES: 'localhost', SIDESTASH_AGENT_IMAGE: 'i', SIDESTASH_AGENT_CONTROLLER_URL: 'http://sidestash:7480' });
    assert.notEqual(webhook.code, 0);
    assert.match(webhook.stderr, /SIDESTASH_AGENT_CONTROLLER_URL: must be https:\/\//);
  });

  it('serves a given certificate, which the CLI trusts through its CA', async () => {
    const d = join(dir.path, 'given');
    await mkdir(d);
    const pki = await makeTestPki(d);
    const c = await startController(d, { env: { SIDESTASH_TLS_CERT_FILE: pki.certFile, SIDESTASH_TLS_KEY_FILE: pki.keyFile }, caFile: join(d, 'ca.crt') });
    try {
      const r = await runCli(['get', 'secrets'], c.cliEnv);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!existsSync(join(d, 'api-ca.crt')), 'no generated CA beside a given certificate');
    } finally {
      await c.stop();
    }
  });

  it('serves plain HTTP only with SIDESTASH_INSECURE_HTTP=true, and warns', async () => {
    const d = join(dir.path, 'insecure');
    await mkdir(d);
    const c = await startController(d, { env: { SIDESTASH_INSECURE_HTTP: 'true' } });
    try {
      assert.match(c.url, /^http:/);
      assert.deepEqual(await api(c.api, 'GET', '/healthz'), { ok: true });
      assert.match(await readFile(c.logFile, 'utf8'), /"level":"warn","msg":"SIDESTASH_INSECURE_HTTP=true: the API is served over plain HTTP/);
    } finally {
      await c.stop();
    }
  });
});

it('seals the plaintext Secrets of a database written before encryption, and serves them', async () => {
  const d = join(dir.path, 'legacy');
  await mkdir(d);
  const db = join(d, 'controller.db');
  const old = new DatabaseSync(db);
  old.exec(`PRAGMA journal_mode = WAL;
    CREATE TABLE resources (kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL, resource_version INTEGER NOT NULL, PRIMARY KEY (kind, namespace, name));
    CREATE TABLE agents (name TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL, targets TEXT NOT NULL, version TEXT NOT NULL, registered_at TEXT NOT NULL, last_seen_at TEXT NOT NULL);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
  const doc = { apiVersion: 'sidestash.io/v1', kind: 'Secret', metadata: { name: 'old-creds', namespace: 'default', uid: 'u1', creationTimestamp: '2026-01-01T00:00:00.000Z', resourceVersion: 1 }, spec: { stringData: { username: 'root', password: 'plaintext-from-before-9f2e' } } };
  old.prepare('INSERT INTO resources VALUES (?, ?, ?, ?, ?)').run('Secret', 'default', 'old-creds', JSON.stringify(doc), 1);
  old.exec("INSERT INTO meta VALUES ('resourceVersion', '1')");
  old.close();
  assert.ok(readFileSync(db).includes('plaintext-from-before-9f2e'));
  const c = await startController(d);
  try {
    for (const f of [db, `${db}-wal`, `${db}-shm`]) if (existsSync(f)) assert.ok(!readFileSync(f).includes('plaintext-from-before-9f2e'), `${f} still holds the plaintext`);
    const got = await api<{ metadata: { name: string } }>(c.api, 'GET', '/api/v1/secrets/old-creds?namespace=default');
    assert.equal(got.metadata.name, 'old-creds');
    const log = await readFile(c.logFile, 'utf8');
    assert.match(log, /encrypted the Secrets stored in plaintext by an earlier version",.*"count":1/);
    assert.match(log, /created one for Secret values at rest/);
    assert.equal((readFileSync(join(d, 'encryption.key')).length > 40), true);
  } finally {
    await c.stop();
  }
  const wrongKey = await runCli(['controller'], { SIDESTASH_LISTEN: '127.0.0.1:0', SIDESTASH_DB: db, SIDESTASH_ADMIN_TOKEN: 'admin-token-0123456789', SIDESTASH_AGENT_BOOTSTRAP_TOKEN: 'boot-token-0123456789', SIDESTASH_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') });
  assert.notEqual(wrongKey.code, 0, 'refuses to start with another key');
  assert.match(wrongKey.stderr, /encrypted with another key than SIDESTASH_ENCRYPTION_KEY/);
});
