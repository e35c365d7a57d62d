// The CLI's listAll against a controller whose pages cannot be trusted (a bug, or a hostile
// server): it fails the command instead of looping for ever or listing items twice. nextPage's
// decisions on a table; listAll against a real HTTP server that answers such pages.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { LIST_CAPS, LIST_PAGE_SIZE, listAll, nextPage } from './list-pages.ts';

const item = (namespace: string, name: string) => ({ metadata: { namespace, name } });

describe('nextPage', () => {
  const table: { name: string; page: object; last?: { namespace: string; name: string }; followed?: string[]; want: 'done' | 'next' | RegExp }[] = [
    { name: 'no continue: done', page: { items: [item('a', 'x')] }, want: 'done' },
    { name: 'empty continue: done', page: { items: [], metadata: { continue: '' } }, want: 'done' },
    { name: 'a whole list out of order without continue (an older controller): done', page: { items: [item('b', 'x'), item('a', 'x')] }, want: 'done' },
    { name: 'a full page that moves on: next', page: { items: [item('a', 'y'), item('b', 'a')], metadata: { continue: 't2' } }, last: { namespace: 'a', name: 'x' }, followed: ['t1'], want: 'next' },
    { name: 'an empty page that asks for more', page: { items: [], metadata: { continue: 't' } }, want: /empty page/ },
    { name: 'a page that repeats the last item', page: { items: [item('a', 'x')], metadata: { continue: 't2' } }, last: { namespace: 'a', name: 'x' }, want: /repeated/ },
    { name: 'a page that goes back', page: { items: [item('a', 'a')], metadata: { continue: 't2' } }, last: { namespace: 'b', name: 'a' }, want: /went back/ },
    { name: 'a page out of order within itself', page: { items: [item('a', 'z'), item('a', 'b')], metadata: { continue: 't' } }, want: /went back/ },
    { name: 'a token followed before', page: { items: [item('c', 'a')], metadata: { continue: 't1' } }, last: { namespace: 'b', name: 'a' }, followed: ['t1'], want: /twice/ },
    { name: 'a token that is not a string', page: { items: [item('a', 'a')], metadata: { continue: 7 } }, want: /not a string/ },
    { name: 'no items list', page: { metadata: { continue: 't' } }, want: /no items/ },
    { name: 'an item without a position in a paged list', page: { items: [{}], metadata: { continue: 't' } }, want: /without metadata/ },
  ];
  for (const t of table) {
    it(t.name, () => {
      const r = nextPage(t.page, t.last, new Set(t.followed ?? []));
      if (t.want === 'done') assert.deepEqual(r, { done: true });
      else if (t.want === 'next') assert.ok('token' in r, JSON.stringify(r));
      else assert.match('problem' in r ? r.problem : JSON.stringify(r), t.want);
    });
  }
});

/**
 * Runs `run` against an HTTP server whose n-th answer (from 1) is `answer(n)`: a JSON body, with
 * a status when not 200. `calls` says how many requests it has had.
 */
async function serve(answer: (n: number) => object | { status: number; body: object }, run: (url: string, calls: () => number) => Promise<void>): Promise<void> {
  let n = 0;
  const server = createServer((_req, res) => {
    n++;
    const a = answer(n);
    const { status, body } = 'status' in a && 'body' in a ? (a as { status: number; body: object }) : { status: 200, body: a };
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, () => n);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('listAll against a server whose pages do not end', () => {
  const cases: [string, (n: number) => object][] = [
    ['the same page with a new token each time', (n) => ({ items: [item('a', 'x')], metadata: { continue: `t${n}` } })],
    ['empty pages with a new token each time', (n) => ({ items: [], metadata: { continue: `t${n}` } })],
    ['the same token again', () => ({ items: [item('a', 'x')], metadata: { continue: 't' } })],
  ];
  for (const [name, answer] of cases) {
    it(`${name}: fails the command after a page or two`, { timeout: 30_000 }, async () => {
      await serve(answer, async (url, calls) => {
        await assert.rejects(listAll({ url, token: 't' }, '/api/v1/appbindings', 1), (err) => isSidestashError(err, ErrorCodes.CONTROLLER_UNAVAILABLE) && /not usable/.test(err.message));
        assert.ok(calls() <= 2, `${calls()} requests`);
      });
    });
  }
});

describe('listAll against a server whose pages move on but never end', () => {
  // Each page holds `perPage` new items after the last and a new token; after 1,000 pages the
  // server gives up (500), so that a listAll without caps fails here rather than loop for ever.
  const endless = (perPage: number, run: (url: string, calls: () => number) => Promise<void>): Promise<void> =>
    serve((n) => (n > 1000 ? { status: 500, body: { error: { code: 'SIDESTASH_INTERNAL', message: 'gave up' } } } : { items: Array.from({ length: perPage }, (_, i) => item('a', `x${String(n * perPage + i).padStart(8, '0')}`)), metadata: { continue: `t${n}` } }), run);
  const tooLong = (maxItems: number, maxPages: number, items: number, pages: number, maxBytes = 1e9) => (err: unknown): boolean =>
    isSidestashError(err, ErrorCodes.LIST_TOO_LONG) && err.retryable === false && /goes on past/.test(err.message) &&
    JSON.stringify(err.details) === JSON.stringify({ path: '/api/v1/backupsessions', items, pages, maxItems, maxBytes, maxPages });

  it('stops at the cap on pages, having asked for no more than it allows', { timeout: 30_000 }, async () => {
    await endless(1, async (url, calls) => {
      await assert.rejects(listAll({ url, token: 't' }, '/api/v1/backupsessions', 1, { maxItems: 1_000, maxBytes: 1e9, maxPages: 5 }), tooLong(1_000, 5, 5, 5));
      assert.equal(calls(), 5);
    });
  });

  it('stops at the cap on items, keeping none past it', { timeout: 30_000 }, async () => {
    await endless(3, async (url, calls) => {
      await assert.rejects(listAll({ url, token: 't' }, '/api/v1/backupsessions', 3, { maxItems: 7, maxBytes: 1e9, maxPages: 100 }), tooLong(7, 100, 6, 3));
      assert.equal(calls(), 3);
    });
  });

  it('the defaults: far above a controller\'s lists, and bounded', () => {
    assert.ok(LIST_CAPS.maxItems >= 100 * LIST_PAGE_SIZE && LIST_CAPS.maxItems <= 1_000_000);
    assert.ok(LIST_CAPS.maxPages * LIST_PAGE_SIZE >= LIST_CAPS.maxItems, 'full pages reach the item cap before the page cap');
    assert.ok(LIST_CAPS.maxPages <= 10_000);
  });
});

describe('listAll against a server whose answers are large', () => {
  it('a whole list in one page of 150,000 items (a controller that does not page) is read whole', { timeout: 60_000 }, async () => {
    const items = Array.from({ length: 150_000 }, (_, i) => item('a', `x${i}`));
    await serve(() => ({ items }), async (url) => {
      const got = await listAll<{ metadata: { name: string } }>({ url, token: 't' }, '/api/v1/backupsessions');
      assert.equal(got.length, 150_000);
      assert.equal(got.at(-1)!.metadata.name, 'x149999');
    });
  });

  it('stops at the cap on bytes while reading, however few items the pages hold', { timeout: 60_000 }, async () => {
    const big = 'y'.repeat(40_000);
    // Two pages of 2 items of ~40 kB each, then a third: the cap of 100 kB is passed in the second.
    await serve((n) => ({ items: [{ ...item('a', `p${n}a`), big }, { ...item('a', `p${n}b`), big }], metadata: { continue: `t${n}` } }), async (url) => {
      await assert.rejects(listAll({ url, token: 't' }, '/api/v1/backupsessions', 2, { maxItems: 1_000, maxBytes: 100_000, maxPages: 100 }), (err) =>
        isSidestashError(err, ErrorCodes.LIST_TOO_LONG) && /past 100000 bytes/.test(err.message) &&
        JSON.stringify(err.details) === JSON.stringify({ path: '/api/v1/backupsessions', items: 2, pages: 2, maxItems: 1_000, maxBytes: 100_000, maxPages: 100 }));
    });
  });

  it('the default cap on bytes bounds the memory the item cap did not', () => {
    assert.ok(LIST_CAPS.maxBytes >= 64 * 1024 * 1024 && LIST_CAPS.maxBytes <= 512 * 1024 * 1024);
  });
});
