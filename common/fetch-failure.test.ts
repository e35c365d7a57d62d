// describeFetchFailure on the errors this runtime's fetch really throws (a closed port, a name
// that does not resolve, a certificate nobody trusts, a server that never answers), and on a
// table of cause chains.
import assert from 'node:assert/strict';
import { createServer as createHttpsServer } from 'node:https';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { makeTestPki } from '../test/helpers/tls.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { describeFetchFailure } from './fetch-failure.ts';
import type { FetchFailure } from './fetch-failure.ts';

async function failure(url: string, timeoutMs?: number): Promise<FetchFailure> {
  try {
    await fetch(url, timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    return describeFetchFailure(err, timeoutMs === undefined ? {} : { timeoutMs });
  }
  throw new Error(`${url} answered`);
}

const listen = async (server: Server): Promise<number> => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
};

describe('describeFetchFailure: real failures of fetch', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  const servers: Server[] = [];
  before(async () => {
    dir = await tempDir('sidestash-fetch-failure-');
  });
  after(async () => {
    for (const s of servers) s.close();
    await dir.cleanup();
  });

  it('a port with nothing listening: refused', async () => {
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((r) => closed.close(r));
    const f = await failure(`http://127.0.0.1:${port}/`);
    assert.equal(f.kind, 'refused', JSON.stringify(f));
    assert.match(f.reason, /refused/i);
  });

  it('a name that does not resolve: dns, naming the host on Node', async () => {
    const f = await failure('https://nonexistent.invalid/');
    assert.equal(f.kind, 'dns', JSON.stringify(f));
    assert.match(f.reason, process.versions.deno ? /dns error/ : /^DNS lookup of nonexistent\.invalid failed \((ENOTFOUND|EAI_AGAIN)\)$/);
  });

  it('a certificate signed by an unknown CA: tls, with the reason', async () => {
    const pki = await makeTestPki(dir.path);
    const server = createHttpsServer({ cert: pki.cert, key: pki.key }, (_req, res) => res.end('hello'));
    servers.push(server);
    const f = await failure(`https://127.0.0.1:${await listen(server)}/`);
    assert.equal(f.kind, 'tls', JSON.stringify(f));
    assert.match(f.reason, process.versions.deno ? /^TLS: .*(UnknownIssuer|certificate)/ : /^TLS: unable to verify the first certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/);
  });

  it('a server that accepts and never answers: timeout, with the limit', async () => {
    const silent = createServer(() => {});
    servers.push(silent);
    const f = await failure(`http://127.0.0.1:${await listen(silent)}/`, 300);
    assert.deepEqual(f, { kind: 'timeout', reason: 'no answer within 300 ms' });
  });
});

describe('describeFetchFailure: cause chains', () => {
  const err = (message: string, props: Record<string, unknown> = {}): Error => Object.assign(new Error(message), props);
  const fetchFailed = (cause: unknown): Error => new TypeError('fetch failed', { cause });
  const table: [string, unknown, Partial<FetchFailure>][] = [
    ['refused, several addresses (AggregateError)', fetchFailed(Object.assign(new AggregateError([err('connect ECONNREFUSED ::1:7480', { code: 'ECONNREFUSED' }), err('connect ECONNREFUSED 127.0.0.1:7480', { code: 'ECONNREFUSED' })], ''), { code: 'ECONNREFUSED' })), { kind: 'refused', reason: 'connection refused (::1:7480)', code: 'ECONNREFUSED' }],
    ['dns, temporary', fetchFailed(err('getaddrinfo EAI_AGAIN controller.example', { code: 'EAI_AGAIN', hostname: 'controller.example' })), { kind: 'dns', reason: 'DNS lookup of controller.example failed (EAI_AGAIN)' }],
    ['self-signed', fetchFailed(err('self-signed certificate', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })), { kind: 'tls', reason: 'TLS: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)' }],
    ['wrong host name', fetchFailed(err("Hostname/IP does not match certificate's altnames: Host: a. is not in the cert's altnames: DNS:b", { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })), { kind: 'tls' }],
    ['expired', fetchFailed(err('certificate has expired', { code: 'CERT_HAS_EXPIRED' })), { kind: 'tls', reason: 'TLS: certificate has expired (CERT_HAS_EXPIRED)' }],
    ['https to a plain HTTP port', fetchFailed(err('write EPROTO ...wrong version number', { code: 'EPROTO' })), { kind: 'tls' }],
    ['reset', fetchFailed(err('other side closed', { code: 'UND_ERR_SOCKET' })), { kind: 'reset', reason: 'connection closed by the other side (UND_ERR_SOCKET)' }],
    ['host unreachable', fetchFailed(err('connect EHOSTUNREACH 10.0.0.1:7480', { code: 'EHOSTUNREACH' })), { kind: 'unreachable' }],
    ['connect timeout', fetchFailed(err('Connect Timeout Error', { code: 'UND_ERR_CONNECT_TIMEOUT' })), { kind: 'timeout', reason: 'no answer (UND_ERR_CONNECT_TIMEOUT)' }],
    ['unknown code', fetchFailed(err('something odd', { code: 'EWHATEVER' })), { kind: 'other', reason: 'something odd (EWHATEVER)' }],
    ['no cause', new Error('bad port'), { kind: 'other', reason: 'bad port' }],
    ['Deno, refused', fetchFailed(err('error sending request for url (https://127.0.0.1:1/x): client error (Connect): tcp connect error: Connection refused (os error 111)')), { kind: 'refused', reason: 'tcp connect error: Connection refused (os error 111)' }],
    ['Deno, dns', fetchFailed(err('error sending request for url (https://x.invalid/x): client error (Connect): dns error: failed to lookup address information: Name or service not known')), { kind: 'dns' }],
    ['Deno, tls', fetchFailed(err('error sending request for url (https://127.0.0.1:1/x): client error (Connect): invalid peer certificate: UnknownIssuer')), { kind: 'tls', reason: 'TLS: invalid peer certificate: UnknownIssuer' }],
    ['a cycle ends', (() => { const a = err('a', { code: 'ECONNRESET' }); (a as { cause?: unknown }).cause = a; return a; })(), { kind: 'reset' }],
  ];
  for (const [what, e, want] of table) {
    it(what, () => {
      const got = describeFetchFailure(e);
      for (const [k, v] of Object.entries(want)) assert.equal(got[k as keyof FetchFailure], v, `${k}: ${JSON.stringify(got)}`);
    });
  }
});
