import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { DUMP_STDOUT_BUFFER, resolveStdbuf, withStdoutBuffer } from './stdbuf.ts';

it('finds stdbuf on PATH for "auto", never for "off", and takes a path as given', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sidestash-stdbuf-'));
  try {
    const empty = join(dir, 'empty');
    const bin = join(dir, 'bin');
    await mkdir(empty);
    await mkdir(bin);
    await writeFile(join(bin, 'stdbuf'), '#!/bin/sh\n');
    await chmod(join(bin, 'stdbuf'), 0o755);
    assert.equal(resolveStdbuf('auto', `relative:${empty}:${bin}`), join(bin, 'stdbuf'));
    assert.equal(resolveStdbuf('auto', empty), undefined);
    assert.equal(resolveStdbuf('off', bin), undefined);
    assert.equal(resolveStdbuf('/opt/stdbuf', empty), '/opt/stdbuf');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it('wraps a program in stdbuf only when there is one', () => {
  assert.deepEqual(withStdoutBuffer(undefined, 'mariadb-dump', ['-A']), ['mariadb-dump', ['-A']]);
  assert.deepEqual(withStdoutBuffer('/usr/bin/stdbuf', 'mariadb-dump', ['-A']), ['/usr/bin/stdbuf', ['-o', DUMP_STDOUT_BUFFER, 'mariadb-dump', '-A']]);
});
