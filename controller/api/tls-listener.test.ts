import assert from 'node:assert/strict';
import { copyFile, mkdir, utimes } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { EnvReader } from '../../common/config-env.ts';
import { createLogger } from '../../common/log.ts';
import { makeTestPki } from '../../test/helpers/tls.ts';
import type { TestPki } from '../../test/helpers/tls.ts';
import { tempDir } from '../../test/helpers/tmp.ts';
import { createApiServer, parseApiTls } from './tls-listener.ts';

let dir: { path: string; cleanup: () => Promise<void> };
let first: TestPki;
let second: TestPki;
before(async () => {
  dir = await tempDir('sidestash-api-tls-');
  await mkdir(join(dir.path, 'a'));
  await mkdir(join(dir.path, 'b'));
  first = await makeTestPki(join(dir.path, 'a'));
  second = await makeTestPki(join(dir.path, 'b'));
});
after(() => dir.cleanup());

const parse = (env: Record<string, string>) => {
  const r = new EnvReader(env);
  const tls = parseApiTls(r, '/state');
  return { tls, problems: r.problems };
};

describe('API TLS settings', () => {
  it('defaults to a generated certificate for localhost in the state directory', () => {
    assert.deepEqual(parse({}), { tls: { mode: 'generated', dnsNames: ['localhost'], stateDir: '/state' }, problems: [] });
    assert.deepEqual(parse({ SIDESTASH_TLS_DNS_NAMES: 'sidestash.example.org, localhost' }).tls, { mode: 'generated', dnsNames: ['sidestash.example.org', 'localhost'], stateDir: '/state' });
  });

  it('takes given files, and plain HTTP only from the explicit flag', () => {
    const given = parse({ SIDESTASH_TLS_CERT_FILE: first.certFile, SIDESTASH_TLS_KEY_FILE: first.keyFile, SIDESTASH_TLS_CA_FILE: join(dir.path, 'a', 'ca.crt') });
    assert.deepEqual(given.problems, []);
    assert.equal(given.tls.mode, 'files');
    assert.deepEqual(given.tls.mode === 'files' && given.tls.files, { certFile: first.certFile, keyFile: first.keyFile });
    assert.deepEqual(parse({ SIDESTASH_INSECURE_HTTP: 'true' }), { tls: { mode: 'insecure-http' }, problems: [] });
  });

  const refused: [string, Record<string, string>, RegExp][] = [
    ['a certificate without its key', { SIDESTASH_TLS_CERT_FILE: '/x.crt' }, /SIDESTASH_TLS_CERT_FILE: cannot read|set both/],
    ['a key without its certificate', { SIDESTASH_TLS_KEY: '-----BEGIN PRIVATE KEY-----' }, /set both/],
    ['a certificate that is not one', { SIDESTASH_TLS_CERT: 'nope', SIDESTASH_TLS_KEY: '-----BEGIN PRIVATE KEY-----\n' }, /SIDESTASH_TLS_CERT_FILE: not a PEM certificate/],
    ['a key that is not one', { SIDESTASH_TLS_CERT_FILE: '', SIDESTASH_TLS_CERT: '', SIDESTASH_TLS_KEY: 'nope' }, /set both|not a PEM private key/],
    ['insecure together with a certificate', { SIDESTASH_INSECURE_HTTP: 'true', SIDESTASH_TLS_CERT: 'x', SIDESTASH_TLS_KEY: 'y' }, /choose one/],
    ['an insecure flag that is not a boolean', { SIDESTASH_INSECURE_HTTP: '1' }, /must be "true" or "false"/],
    ['a CA without a given certificate', { SIDESTASH_TLS_CA: 'x' }, /SIDESTASH_TLS_CA_FILE: only with/],
  ];
  for (const [what, env, pattern] of refused) {
    it(`refuses ${what}`, () => {
      const { problems } = parse(env);
      assert.ok(problems.some((p) => pattern.test(p)), problems.join('\n'));
    });
  }
});

async function servedFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.end();
      resolve(fp);
    });
    s.once('error', reject);
  });
}

it('serves renewed certificate files without a restart', async () => {
  const live = join(dir.path, 'live');
  await mkdir(live);
  const files = { certFile: join(live, 'tls.crt'), keyFile: join(live, 'tls.key') };
  await copyFile(first.certFile, files.certFile);
  await copyFile(first.keyFile, files.keyFile);
  const { tls } = parse({ SIDESTASH_TLS_CERT_FILE: files.certFile, SIDESTASH_TLS_KEY_FILE: files.keyFile });
  const listener = await createApiServer(tls, (_req, res) => res.end('ok'), createLogger({}, { level: 'error' }), { reloadIntervalMs: 50 });
  await new Promise<void>((r) => listener.server.listen(0, '127.0.0.1', r));
  const port = (listener.server.address() as AddressInfo).port;
  try {
    const before = await servedFingerprint(port, first.caCert);
    await copyFile(second.keyFile, files.keyFile);
    await copyFile(second.certFile, files.certFile);
    const later = new Date(Date.now() + 5_000);
    await utimes(files.certFile, later, later);
    const deadline = Date.now() + 20_000;
    let now = before;
    while (now === before) {
      assert.ok(Date.now() < deadline, 'the renewed certificate was never served');
      await new Promise((r) => setTimeout(r, 50));
      now = await servedFingerprint(port, second.caCert).catch(() => before);
    }
    assert.notEqual(now, before);
  } finally {
    listener.stop();
    listener.server.close();
  }
});
