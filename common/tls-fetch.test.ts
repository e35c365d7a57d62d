// trustingFetch on this runtime: the plain fetch refuses a private CA's server, the trusting
// one accepts it, and the mechanism is the one that loads no extra package where possible.
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import { makeTestPki } from '../test/helpers/tls.ts';
import type { TestPki } from '../test/helpers/tls.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { caMechanism, fetchErrorMessage, splitPemCertificates, trustingFetch } from './tls-fetch.ts';

let dir: { path: string; cleanup: () => Promise<void> };
let otherDir: { path: string; cleanup: () => Promise<void> };
let pki: TestPki;
let other: TestPki;
let server: ReturnType<typeof createServer>;
let url: string;
before(async () => {
  dir = await tempDir('sidestash-tls-fetch-');
  pki = await makeTestPki(dir.path);
  otherDir = await tempDir('sidestash-tls-other-');
  other = await makeTestPki(otherDir.path);
  server = createServer({ cert: pki.cert, key: pki.key }, (_req, res) => res.end('hello'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(async () => {
  server.closeAllConnections();
  server.close();
  await dir.cleanup();
  await otherDir.cleanup();
});

it('uses Deno.createHttpClient on Deno and the default CA store on Node >= 22.19 (no undici load)', async () => {
  const deno = (process.versions as Record<string, string | undefined>).deno;
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  const expected = deno ? 'deno-http-client' : major > 24 || (major === 24 && minor >= 5) || (major === 22 && minor >= 19) || major === 23 ? 'node-default-ca' : 'undici-agent';
  assert.equal(await caMechanism(), expected);
});

it('refuses a server signed by another CA, and trusts the configured CA', async () => {
  const wrong = await trustingFetch(other.caCert);
  await assert.rejects(wrong(url, {}), (err: unknown) => /certificate|UNABLE_TO_VERIFY|unknown issuer|invalid peer/i.test(fetchErrorMessage(err)));
  const right = await trustingFetch(pki.caCert);
  assert.equal(await (await right(url, {})).text(), 'hello');
});

it('splits a PEM bundle into certificates', () => {
  assert.deepEqual(splitPemCertificates(`junk\n${pki.caCert}${other.caCert}`).length, 2);
  assert.deepEqual(splitPemCertificates('none'), []);
});
