// Lists in pages (?limit=, ?continue=) on a real controller over HTTP, and the CLI's listAll
// following them: every item once, in order, across pages; a resource created between pages is
// neither repeated nor shifts the rest; no limit answers the whole list as before; a bad limit or
// token is INVALID_ARGUMENT. The token's decoding on a table.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api } from '../../cli/api-client.ts';
import type { ApiClientOptions } from '../../cli/api-client.ts';
import { listAll } from '../../cli/list-pages.ts';
import { createLogger } from '../../common/log.ts';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { tempDir } from '../../test/helpers/tmp.ts';
import { parseControllerConfig } from '../config.ts';
import { Controller } from '../controller.ts';
import { decodeContinue, encodeContinue, parsePageRequest } from './list-pages.ts';

describe('continue tokens', () => {
  it('round-trips a position', () => assert.deepEqual(decodeContinue(encodeContinue({ namespace: 'shop', name: 'db-1' })), { namespace: 'shop', name: 'db-1' }));
  const refused: [string, string][] = [
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('nope').toString('base64url')],
    ['one string', Buffer.from('["a"]').toString('base64url')],
    ['numbers', Buffer.from('[1,2]').toString('base64url')],
    ['an object', Buffer.from('{"namespace":"a","name":"b"}').toString('base64url')],
    ['too long', 'a'.repeat(2000)],
  ];
  for (const [why, token] of refused) it(`refuses ${why}`, () => assert.equal(decodeContinue(token), undefined));
  it('a bad limit and a bad token are reported together', () => {
    assert.throws(() => parsePageRequest(new URLSearchParams({ limit: '0', continue: 'x+y' })), (err) => isSidestashError(err, ErrorCodes.INVALID_ARGUMENT) && /limit/.test(err.message) && /continue/.test(err.message));
    for (const limit of ['-1', '1.5', 'ten', '10001']) assert.throws(() => parsePageRequest(new URLSearchParams({ limit })), (err) => isSidestashError(err, ErrorCodes.INVALID_ARGUMENT), limit);
    assert.deepEqual(parsePageRequest(new URLSearchParams({ limit: '10000' })), { limit: 10_000 });
    assert.deepEqual(parsePageRequest(new URLSearchParams()), {});
  });
});

describe('list pages on a real controller', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let c: Controller;
  let o: ApiClientOptions;
  const token = 'admin-token-0123456789abcdef';
  const binding = (name: string, namespace: string): object => ({ apiVersion: 'sidestash.io/v1', kind: 'AppBinding', metadata: { name, namespace }, spec: { type: 'mariadb', clientConfig: { host: '127.0.0.1', port: 3306 }, secret: { name: 'auth' } } });
  const apply = (docs: object[]): Promise<unknown> => api(o, 'POST', '/api/v1/apply', docs);
  type Listed = { metadata: { namespace: string; name: string } };
  const names = (items: Listed[]): string[] => items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`);

  before(async () => {
    dir = await tempDir('sidestash-pages-');
    c = new Controller(parseControllerConfig({ SIDESTASH_LISTEN: '127.0.0.1:0', SIDESTASH_DB: join(dir.path, 'c.db'), SIDESTASH_ADMIN_TOKEN: token, SIDESTASH_INSECURE_HTTP: 'true' }), createLogger({}, { level: 'error' }));
    const { port } = await c.start();
    o = { url: `http://127.0.0.1:${port}`, token };
    await apply([binding('s3', 'b'), binding('s1', 'a'), binding('s2', 'a'), binding('s5', 'c'), binding('s4', 'b')]);
  });
  after(async () => {
    await c.stop();
    await dir.cleanup();
  });

  it('without a limit: the whole list, no continue', async () => {
    const r = await api<{ items: Listed[]; metadata?: unknown }>(o, 'GET', '/api/v1/appbindings');
    assert.deepEqual(names(r.items), ['a/s1', 'a/s2', 'b/s3', 'b/s4', 'c/s5']);
    assert.equal(r.metadata, undefined);
  });

  it('pages of 2 in order, each full page with a continue token; an item created between pages is listed once', async () => {
    const first = await api<{ items: Listed[]; metadata?: { continue?: string } }>(o, 'GET', '/api/v1/appbindings?limit=2');
    assert.deepEqual(names(first.items), ['a/s1', 'a/s2']);
    assert.ok(first.metadata?.continue);
    await apply([binding('s0', 'a'), binding('s6', 'c')]); // one before the token's position, one after
    const second = await api<{ items: Listed[]; metadata?: { continue?: string } }>(o, 'GET', `/api/v1/appbindings?limit=2&continue=${encodeURIComponent(first.metadata.continue)}`);
    assert.deepEqual(names(second.items), ['b/s3', 'b/s4']);
    const third = await api<{ items: Listed[]; metadata?: { continue?: string } }>(o, 'GET', `/api/v1/appbindings?limit=2&continue=${encodeURIComponent(second.metadata!.continue!)}`);
    assert.deepEqual(names(third.items), ['c/s5', 'c/s6']);
    const last = await api<{ items: Listed[]; metadata?: { continue?: string } }>(o, 'GET', `/api/v1/appbindings?limit=2&continue=${encodeURIComponent(third.metadata!.continue!)}`);
    assert.deepEqual(last.items, []);
    assert.equal(last.metadata, undefined, 'an empty page ends the list');
  });

  it('with a namespace and a label selector too', async () => {
    const r = await api<{ items: Listed[]; metadata?: { continue?: string } }>(o, 'GET', '/api/v1/appbindings?namespace=a&limit=1');
    assert.deepEqual(names(r.items), ['a/s0']);
    const s = await api<{ items: Listed[]; metadata?: { continue?: string } }>(o, 'GET', '/api/v1/appbindings?labelSelector=!missing&limit=4');
    assert.equal(s.items.length, 4);
    assert.ok(s.metadata?.continue);
  });

  it('the CLI follows continue to the end, fetching every item once', async () => {
    assert.deepEqual(names(await listAll<Listed>(o, '/api/v1/appbindings', 2)), ['a/s0', 'a/s1', 'a/s2', 'b/s3', 'b/s4', 'c/s5', 'c/s6']);
    assert.deepEqual(names(await listAll<Listed>(o, '/api/v1/appbindings?namespace=b', 1)), ['b/s3', 'b/s4']);
  });

  it('a bad limit or token is INVALID_ARGUMENT', async () => {
    await assert.rejects(api(o, 'GET', '/api/v1/appbindings?limit=0'), (err) => isSidestashError(err, ErrorCodes.INVALID_ARGUMENT));
    await assert.rejects(api(o, 'GET', '/api/v1/appbindings?continue=bm9wZQ'), (err) => isSidestashError(err, ErrorCodes.INVALID_ARGUMENT));
  });
});
