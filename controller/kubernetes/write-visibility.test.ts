// write-visibility.ts: a write's wait ends when the informer delivers its version (before or
// after the wait began), only for that key and that version, and with false after the timeout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WriteVisibility } from './write-visibility.ts';

const v = WriteVisibility.versionToken;

test('a wait ends when its version is observed for its key, not for another key or version', async () => {
  const w = new WriteVisibility(60_000);
  let done: boolean | undefined;
  const waiting = w.wait('Repository/ns/a', v('7')).then((seen) => (done = seen));
  w.observe('Repository/ns/b', v('7'));
  w.observe('Repository/ns/a', v('6'));
  await new Promise((r) => setImmediate(r));
  assert.equal(done, undefined, 'another key or another version does not end it');
  w.observe('Repository/ns/a', v('7'));
  assert.equal(await waiting, true);
  w.close();
});

test('a version observed before the wait began ends it at once; a deletion has its own token', async () => {
  const w = new WriteVisibility(60_000);
  w.observe('k', v('3'));
  w.observe('k', v('4'));
  assert.equal(await w.wait('k', v('3')), true);
  w.observe('k', WriteVisibility.deletedToken('uid-1'));
  assert.equal(await w.wait('k', WriteVisibility.deletedToken('uid-1')), true);
  w.close();
});

test('a version never observed ends the wait with false after the timeout; close ends every wait', async () => {
  const w = new WriteVisibility(20);
  assert.equal(await w.wait('k', v('1')), false);
  const long = new WriteVisibility(60_000);
  const pending = long.wait('k', v('1'));
  long.close();
  assert.equal(await pending, false);
  const ac = new AbortController();
  const aborted = long.wait('k', v('2'), ac.signal);
  ac.abort();
  assert.equal(await aborted, false);
});

test('memory is bounded: only the keys observed last are remembered, a deleted session ages out like any key', async () => {
  const w = new WriteVisibility(20, 3);
  w.observe('a', v('1'));
  w.observe('b', v('2'));
  w.observe('c', v('3'));
  w.observe('a', WriteVisibility.deletedToken('uid-a'));
  w.observe('d', v('4'));
  assert.equal(w.rememberedKeys, 3);
  assert.equal(await w.wait('b', v('2')), false, 'the least recently observed key was dropped');
  assert.equal(await w.wait('a', WriteVisibility.deletedToken('uid-a')), true, 'observing again made it recent');
  assert.equal(await w.wait('d', v('4')), true);
  const many = new WriteVisibility(20);
  for (let i = 0; i < 10_000; i++) many.observe(`BackupSession/ns/scheduled-${i}`, v(String(i)));
  assert.equal(many.rememberedKeys, 4096);
  assert.equal(await many.wait('BackupSession/ns/scheduled-9999', v('9999')), true);
});
