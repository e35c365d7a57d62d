// The LEB128 encodings against the core spec's examples and a decoder, over the ranges the
// assembled modules use (common/wasm-encoding.ts).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { i32Const, leb, section, sleb } from './wasm-encoding.ts';

function unleb(bytes: number[], signed: boolean): number {
  let result = 0n;
  let shift = 0n;
  let byte = 0;
  for (const b of bytes) {
    byte = b;
    result |= BigInt(b & 0x7f) << shift;
    shift += 7n;
    if ((b & 0x80) === 0) break;
  }
  if (signed && (byte & 0x40) !== 0) result -= 1n << shift;
  return Number(result);
}

it('LEB128: the spec\'s examples, and every encoding decodes back with the last byte unmarked', () => {
  assert.deepEqual(leb(0), [0]);
  assert.deepEqual(leb(127), [0x7f]);
  assert.deepEqual(leb(128), [0x80, 0x01]);
  assert.deepEqual(leb(624485), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(sleb(-123456), [0xc0, 0xbb, 0x78]);
  assert.deepEqual(sleb(63), [0x3f]);
  assert.deepEqual(sleb(64), [0xc0, 0x00]);
  assert.deepEqual(sleb(-64), [0x40]);
  assert.deepEqual(sleb(-65), [0xbf, 0x7f]);
  for (const n of [1, 2 ** 7 - 1, 2 ** 14, 2 ** 21 + 5, 2 ** 28 - 1, 2 ** 32 - 1]) {
    const u = leb(n);
    assert.equal(unleb(u, false), n, `leb ${n}`);
    assert.ok(u.slice(0, -1).every((b) => b & 0x80) && !(u.at(-1)! & 0x80));
  }
  for (const n of [-(2 ** 31), -1, 0, 1, 2 ** 31 - 1, 0x3da3358b]) {
    const v = n | 0;
    assert.equal(unleb(sleb(v), true), v, `sleb ${v}`);
  }
  assert.deepEqual(i32Const(-1), [0x41, 0x7f]);
  assert.deepEqual(section(3, [1, 0]), [3, 2, 1, 0]);
});
