import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSidestashError } from '../common/errors.ts';
import { resolveKeyId } from '../common/repository/keys.ts';
import { goTimeString, permissions, resticBytes, statsText } from './restic-text.ts';

describe('restic-shaped output', () => {
  const sizes: [number, string][] = [[0, '0 B'], [1023, '1023 B'], [1024, '1.000 KiB'], [300000, '292.969 KiB'], [5 * 2 ** 30, '5.000 GiB']];
  for (const [n, want] of sizes) it(`${n} bytes: ${want}`, () => assert.equal(resticBytes(n), want));

  it('Go time strings of UTC and of other offsets', () => {
    assert.equal(goTimeString('2026-12-01T15:12:28.010094843Z'), '2026-12-01 15:12:28.010094843 +0000 UTC');
    assert.equal(goTimeString('2026-12-01T15:12:28.500Z'), '2026-12-01 15:12:28.5 +0000 UTC');
    assert.equal(goTimeString('2026-12-01T15:12:28Z'), '2026-12-01 15:12:28 +0000 UTC');
  });

  it('permissions of files and directories', () => {
    assert.equal(permissions({ name: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, content: [] }), '-rw-r--r--');
    assert.equal(permissions({ name: 'd', type: 'dir', mode: 2 ** 31 + 0o755, uid: 0, gid: 0, content: null }), 'drwxr-xr-x');
  });

  it('stats text in both modes', () => {
    assert.equal(statsText('restore-size', { total_size: 300000, total_file_count: 1, snapshots_count: 1 }), 'Stats in restore-size mode:\nSnapshots processed:   1\n   Total File Count:   1\n         Total Size:   292.969 KiB');
    assert.equal(statsText('raw-data', { total_size: 300263, total_file_count: 0, total_blob_count: 2, snapshots_count: 1 }), 'Stats in raw-data mode:\nSnapshots processed:   1\n   Total Blob Count:   2\n         Total Size:   293.226 KiB');
  });

  const ids = ['aa11', 'aa22', 'bb33'];
  const keyRefs: [string, string | RegExp][] = [['bb', 'bb33'], ['aa1', 'aa11'], ['aa', /ambiguous/], ['cc', /no key/], ['x!', /not a hexadecimal/]];
  for (const [ref, want] of keyRefs) {
    it(`key ID ${ref}`, () => {
      if (typeof want === 'string') assert.equal(resolveKeyId(ids, ref), want);
      else assert.throws(() => resolveKeyId(ids, ref), (e) => isSidestashError(e) && want.test(e.message));
    });
  }
});
