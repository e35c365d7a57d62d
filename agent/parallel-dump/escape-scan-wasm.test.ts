// The SIMD escape test against the regular expression it replaces, and escapeInto's output
// against mysql_real_escape_string's escapes byte by byte: every special byte (and its
// neighbours in value) at every position of short values, at the block and window edges of
// long ones, and random values.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { it } from 'node:test';
import { MIN_SCAN_BYTES, WINDOW_BYTES, escapeScanner } from './escape-scan-wasm.ts';
import { escapeInto } from './row-render.ts';

const SPECIAL = [0x00, 0x0a, 0x0d, 0x22, 0x27, 0x5c, 0x1a];
const NEAR = [0x01, 0x09, 0x0b, 0x0c, 0x0e, 0x19, 0x1b, 0x21, 0x23, 0x26, 0x28, 0x5b, 0x5d, 0x7f, 0x80, 0xa7, 0xdc, 0xff];
const regex = (v: Buffer): boolean => /[\0\n\r\\'"\x1a]/.test(v.toString('latin1'));
const scan = escapeScanner();

/** mysql_real_escape_string, one byte at a time. */
function reference(v: Buffer): Buffer {
  const map: Record<number, string> = { 0x00: '\\0', 0x0a: '\\n', 0x0d: '\\r', 0x5c: '\\\\', 0x27: "\\'", 0x22: '\\"', 0x1a: '\\Z' };
  const parts: Buffer[] = [];
  for (const b of v) parts.push(map[b] !== undefined ? Buffer.from(map[b]!, 'latin1') : Buffer.from([b]));
  return Buffer.concat(parts);
}

function pseudoRandom(bytes: number, seed: string): Buffer {
  const out = Buffer.allocUnsafe(bytes + 32);
  for (let off = 0, i = 0; off < bytes; off += 32, i++) createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out.subarray(0, bytes);
}

it('is available where WebAssembly SIMD is (Node.js and Deno)', () => {
  assert.ok(scan);
});

it('finds each byte to escape at every position of short values, and no other byte', () => {
  for (let n = MIN_SCAN_BYTES; n <= 80; n++) {
    const v = Buffer.alloc(n, 0x61);
    assert.equal(scan!(v), false, `clean value of ${n}`);
    for (const c of [...SPECIAL, ...NEAR]) {
      for (let i = 0; i < n; i++) {
        v.fill(0x61);
        v[i] = c;
        assert.equal(scan!(v), SPECIAL.includes(c), `byte ${c} at ${i} of ${n}`);
      }
    }
  }
});

it('scans long values window by window, to their last byte', () => {
  for (const n of [WINDOW_BYTES - 1, WINDOW_BYTES, WINDOW_BYTES + 1, WINDOW_BYTES + 15, WINDOW_BYTES + 16, 3 * WINDOW_BYTES + 7]) {
    const v = Buffer.alloc(n, 0x62);
    assert.equal(scan!(v), false);
    for (const i of [0, 15, 16, WINDOW_BYTES - 16, WINDOW_BYTES - 1, WINDOW_BYTES, WINDOW_BYTES + 1, n - 17, n - 16, n - 1]) {
      if (i < 0 || i >= n) continue;
      for (const c of SPECIAL) {
        v.fill(0x62);
        v[i] = c;
        assert.equal(scan!(v), true, `byte ${c} at ${i} of ${n}`);
      }
    }
  }
});

it('agrees with the regular expression, and escapeInto with mysql_real_escape_string, on random values', () => {
  const out = Buffer.alloc(2 * 70_000 + 16);
  for (let i = 0; i < 400; i++) {
    const v = pseudoRandom(1 + ((i * 7919) % (i % 50 === 0 ? 70_000 : 300)), `v${i}`);
    // Random bytes hold a special byte every ~37; half the values have them replaced.
    if (i % 2 === 0) for (let j = 0; j < v.length; j++) if (SPECIAL.includes(v[j]!)) v[j] = 0x41;
    if (v.length >= MIN_SCAN_BYTES) assert.equal(scan!(v), regex(v), `value ${i}`);
    const end = escapeInto(v, out, 0);
    assert.deepEqual(out.subarray(0, end), reference(v), `value ${i}`);
  }
});
