import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../common/log.ts';
import { ReferenceRefresher } from './reference-refresher.ts';

const quiet = createLogger({}, { write: () => {} });
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a burst of changes in a namespace costs one refresh of it; namespaces apart; nothing after stop; a failed refresh throws nothing', async () => {
  const calls: string[] = [];
  const r = new ReferenceRefresher(async (ns) => {
    calls.push(ns);
    if (ns === 'bad') throw new Error('api down');
  }, quiet, 20);
  for (let i = 0; i < 10; i++) r.touch('shop');
  r.touch('crm');
  r.touch('bad');
  await wait(80);
  assert.deepEqual(calls.sort(), ['bad', 'crm', 'shop']);
  r.touch('shop');
  await wait(80);
  assert.deepEqual(calls.filter((c) => c === 'shop').length, 2, 'a later change refreshes again');
  r.touch('shop');
  r.stop();
  await wait(80);
  assert.equal(calls.filter((c) => c === 'shop').length, 2, 'nothing after stop');
});
