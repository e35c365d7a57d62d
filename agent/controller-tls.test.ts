import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isSidestashError } from '../common/errors.ts';
import { makeTestPki } from '../test/helpers/tls.ts';
import type { TestPki } from '../test/helpers/tls.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { parseAgentConfig } from './config.ts';

const base = { SIDESTASH_AGENT_BOOTSTRAP_TOKEN: 'boot-token-0123456789', SIDESTASH_AGENT_NAME: 'a', SIDESTASH_AGENT_TARGETS: 'default/db', SIDESTASH_STDBUF: 'off' };
let dir: { path: string; cleanup: () => Promise<void> };
let pki: TestPki;
before(async () => {
  dir = await tempDir('sidestash-agent-tls-');
  pki = await makeTestPki(dir.path);
  await writeFile(join(dir.path, 'not-a-cert.pem'), '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n');
});
after(() => dir.cleanup());

const refuses = (env: Record<string, string>, ...mentions: string[]): void => {
  assert.throws(() => parseAgentConfig({ ...base, ...env }), (err: unknown) => isSidestashError(err, 'SIDESTASH_INVALID_CONFIG') && mentions.every((m) => err.message.includes(m)));
};

describe('agent: trusting the controller', () => {
  it('refuses an http:// controller URL without SIDESTASH_INSECURE_HTTP=true', () => {
    refuses({ SIDESTASH_CONTROLLER_URL: 'http://controller:7480' }, 'SIDESTASH_CONTROLLER_URL', 'SIDESTASH_INSECURE_HTTP=true');
    refuses({ SIDESTASH_CONTROLLER_URL: 'http://controller:7480', SIDESTASH_INSECURE_HTTP: 'false' }, 'SIDESTASH_CONTROLLER_URL');
    refuses({ SIDESTASH_CONTROLLER_URL: 'http://controller:7480', SIDESTASH_INSECURE_HTTP: 'yes' }, 'SIDESTASH_INSECURE_HTTP: must be "true" or "false"');
    assert.equal(parseAgentConfig({ ...base, SIDESTASH_CONTROLLER_URL: 'http://controller:7480', SIDESTASH_INSECURE_HTTP: 'true' }).insecureHttp, true);
  });

  it('takes the CA from a file or inline PEM', () => {
    assert.equal(parseAgentConfig({ ...base, SIDESTASH_CONTROLLER_URL: 'https://controller:7480', SIDESTASH_CONTROLLER_CA_FILE: join(dir.path, 'ca.crt') }).controllerCaCert?.trim(), pki.caCert.trim());
    assert.equal(parseAgentConfig({ ...base, SIDESTASH_CONTROLLER_URL: 'https://controller:7480', SIDESTASH_CONTROLLER_CA: pki.caCert }).controllerCaCert, pki.caCert);
    assert.equal(parseAgentConfig({ ...base, SIDESTASH_CONTROLLER_URL: 'https://controller:7480' }).controllerCaCert, undefined, 'system trust store');
  });

  it('refuses a CA setting that holds no usable CA certificate, naming it', () => {
    const url = { SIDESTASH_CONTROLLER_URL: 'https://controller:7480' };
    refuses({ ...url, SIDESTASH_CONTROLLER_CA_FILE: join(dir.path, 'missing.crt') }, 'SIDESTASH_CONTROLLER_CA_FILE: cannot read');
    refuses({ ...url, SIDESTASH_CONTROLLER_CA: 'hello' }, 'SIDESTASH_CONTROLLER_CA: no PEM certificate');
    refuses({ ...url, SIDESTASH_CONTROLLER_CA_FILE: join(dir.path, 'not-a-cert.pem') }, `SIDESTASH_CONTROLLER_CA_FILE (${join(dir.path, 'not-a-cert.pem')}): not a PEM certificate`);
    refuses({ ...url, SIDESTASH_CONTROLLER_CA: pki.cert }, 'is not a CA certificate');
  });
});
