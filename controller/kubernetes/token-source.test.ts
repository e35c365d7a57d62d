import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../test/helpers/tmp.ts';
import { tokenSource } from './token-source.ts';

test('a token file is read again once a minute (rotation), and at once when invalidated', async () => {
  const dir = await tempDir('sidestash-token-');
  try {
    const file = join(dir.path, 'token');
    await writeFile(file, 'one\n');
    let nowMs = 0;
    const tokens = tokenSource({ kind: 'token-file', file }, { now: () => nowMs });
    assert.equal(await tokens.token(), 'one');
    await writeFile(file, 'two\n');
    nowMs = 59_999;
    assert.equal(await tokens.token(), 'one', 'cached within the minute');
    nowMs = 60_000;
    assert.equal(await tokens.token(), 'two', 'read again after a minute');
    await writeFile(file, 'three\n');
    assert.equal(tokens.invalidate(), true);
    assert.equal(await tokens.token(), 'three', 'read again after a 401');
  } finally {
    await dir.cleanup();
  }
});

test('a fixed token and client certificates: nothing to read again', async () => {
  const fixed = tokenSource({ kind: 'token', token: 't' });
  assert.equal(await fixed.token(), 't');
  assert.equal(fixed.invalidate(), false);
  assert.equal(await tokenSource({ kind: 'client-certificate', certPem: 'c', keyPem: 'k' }).token(), undefined);
});
