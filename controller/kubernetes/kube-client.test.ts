// The client against a small HTTP server that answers what a real API server would not: a 2xx
// that is not JSON, a 503 with Retry-After, and a 401 every time (one re-read of the token only).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import { KubeClient } from './kube-client.ts';
import { ConfigMaps } from './resource-type.ts';

async function serve(answer: (path: string) => { status: number; body: string; headers?: Record<string, string> }) {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    const a = answer(req.url ?? '');
    res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end(a.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  let reads = 0;
  const client = new KubeClient(
    { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, insecureSkipTlsVerify: false, credentials: { kind: 'none' }, namespace: 'default', source: 'test' },
    { tokens: { token: async () => `t${++reads}`, invalidate: () => true } },
  );
  return { client, requests: () => requests, reads: () => reads, close: async () => { await client.close(); server.close(); } };
}
const code = (err: unknown) => (err instanceof SidestashError ? err.code : String(err));

test('a 2xx whose body is not JSON is KUBE_UNAVAILABLE (retryable), not a SyntaxError', async () => {
  const s = await serve(() => ({ status: 200, body: '<html>proxy</html>' }));
  const err = await s.client.get(ConfigMaps, 'default', 'x').catch((e: unknown) => e);
  assert.equal(code(err), ErrorCodes.KUBE_UNAVAILABLE);
  assert.equal((err as SidestashError).retryable, true);
  await s.close();
});

test('503 with Retry-After carries retryAfterMs for the retry layer', async () => {
  const s = await serve(() => ({ status: 503, body: '{"kind":"Status","code":503,"reason":"ServiceUnavailable"}', headers: { 'retry-after': '3' } }));
  const err = (await s.client.get(ConfigMaps, 'default', 'x').catch((e: unknown) => e)) as SidestashError;
  assert.equal(err.code, ErrorCodes.KUBE_UNAVAILABLE);
  assert.equal(err.details.retryAfterMs, 3000);
  await s.close();
});

test('a 401 reads the token again once, not in a loop', async () => {
  const s = await serve(() => ({ status: 401, body: '{"kind":"Status","code":401,"reason":"Unauthorized"}' }));
  assert.equal(code(await s.client.get(ConfigMaps, 'default', 'x').catch((e: unknown) => e)), ErrorCodes.UNAUTHORIZED);
  assert.equal(s.requests(), 2);
  assert.equal(s.reads(), 2);
  await s.close();
});

test('a watch whose connection goes silent past idleTimeoutMs ends as KUBE_UNAVAILABLE (a half-open connection never closes by itself)', { timeout: 120_000 }, async () => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"type":"BOOKMARK","object":{"kind":"ConfigMap","metadata":{"resourceVersion":"5"}}}\n');
    // then nothing, and the connection stays open
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = new KubeClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, insecureSkipTlsVerify: false, credentials: { kind: 'none' }, namespace: 'default', source: 'test' });
  const types: string[] = [];
  const err = await (async () => {
    for await (const e of client.watch(ConfigMaps, 'default', { resourceVersion: '1', timeoutSeconds: 600, idleTimeoutMs: 300 })) types.push(e.type);
  })().catch((e: unknown) => e);
  assert.deepEqual(types, ['BOOKMARK']);
  assert.equal(code(err), ErrorCodes.KUBE_UNAVAILABLE);
  server.closeAllConnections();
  server.close();
  await client.close();
});
