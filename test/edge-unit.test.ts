// The systemd unit README's edge deployment points to (examples/edge/sidestash-agent.service):
// every variable it sets is one the agent reads, and with the unit's credentials in place the
// agent's configuration parses with edge autonomy on, keyed from the key file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { parseAgentConfig } from '../agent/config.ts';
import { makeTestPki } from './helpers/tls.ts';
import { tempDir } from './helpers/tmp.ts';

const UNIT = join(import.meta.dirname, '..', 'examples', 'edge', 'sidestash-agent.service');
let dir: { path: string; cleanup: () => Promise<void> };
before(async () => (dir = await tempDir()));
after(async () => dir?.cleanup());

it('the example unit sets only variables the agent reads, and its configuration parses with autonomy on', async () => {
  const creds = join(dir.path, 'credentials');
  await mkdir(creds);
  await writeFile(join(creds, 'enrolment-token'), 'edge-enrolment-token-0123456789\n');
  await writeFile(join(creds, 'state-key'), Buffer.alloc(32, 9));
  const env: Record<string, string> = {};
  for (const line of readFileSync(UNIT, 'utf8').split('\n')) {
    const m = /^Environment=([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!.replaceAll('%d', creds);
  }
  assert.ok(Object.keys(env).length >= 10, 'the unit sets the agent\'s variables');
  // The CA file is the controller's; here a test CA.
  env.SIDESTASH_CONTROLLER_CA_FILE = join(dir.path, 'ca.pem');
  await writeFile(env.SIDESTASH_CONTROLLER_CA_FILE, (await makeTestPki(dir.path)).caCert);
  const read = new Set<string>();
  const tracked = new Proxy(env, { get: (t, k) => (typeof k === 'string' && read.add(k.replace(/_FILE$/, '')), t[k as string]) });
  const config = parseAgentConfig(tracked);
  for (const name of Object.keys(env)) assert.ok(read.has(name.replace(/_FILE$/, '')), `the agent does not read ${name}`);
  assert.equal(config.bootstrapToken, 'edge-enrolment-token-0123456789');
  assert.equal(config.offline?.keySource, 'key-file');
  assert.equal(config.offline?.offlineAfterMs, 15 * 60_000);
  assert.equal(config.limitUploadKiBps, 2048);
  assert.deepEqual(config.targets, ['edge/shop-db']);
});
