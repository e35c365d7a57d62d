import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { backendContract } from '../contract.ts';
import { LocalBackend } from './local-backend.ts';

backendContract('local', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sidestash-local-'));
  return { backend: new LocalBackend(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

it('local backend uses restic\'s layout and leaves no temporary files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sidestash-local-'));
  try {
    const b = new LocalBackend(dir);
    await b.create();
    const id = 'ab'.padEnd(64, '0');
    await b.save({ type: 'data', name: id }, Buffer.from('pack'));
    assert.equal((await stat(join(dir, 'data', 'ab', id))).size, 4);
    assert.deepEqual(await readdir(join(dir, 'data', 'ab')), [id]);
    assert.deepEqual((await readdir(dir)).sort(), ['data', 'index', 'keys', 'locks', 'snapshots']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
