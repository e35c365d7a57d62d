import assert from 'node:assert/strict';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { it } from 'node:test';
import { Poly1305 } from '@noble/ciphers/_poly1305.js';
import { poly1305, poly1305Float, poly1305Implementation } from './poly1305.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s:]/g, ''), 'hex');
const tag = (key: Uint8Array, msg: Uint8Array): string => Buffer.from(poly1305(key, msg)).toString('hex');
const floatTag = (key: Uint8Array, msg: Uint8Array): string => Buffer.from(poly1305Float(key, msg)).toString('hex');
const nobleTag = (key: Uint8Array, msg: Uint8Array): string => Buffer.from(new Poly1305(key).update(msg).digest()).toString('hex');

it('runs in WebAssembly on Node and Deno (the float fallback is for runtimes without it)', () => {
  assert.equal(poly1305Implementation(), 'wasm');
});

it('matches RFC 8439 section 2.5.2', () => {
  const key = hex('85:d6:be:78:57:55:6d:33:7f:44:52:fe:42:d5:06:a8:01:03:80:8a:fb:0d:b2:fd:4a:bf:f6:af:41:49:f5:1b');
  assert.equal(tag(key, Buffer.from('Cryptographic Forum Research Group')), 'a8061dc1305136c6c22b8baf0c0127a9');
});

it('matches the RFC 8439 appendix A.3 edge cases (limbs at their largest, wraparound past 2^130 - 5)', () => {
  const r = (first: string): string => first.padEnd(32, '0');
  const cases: [key: string, data: string, tag: string][] = [
    [r('02') + '00'.repeat(16), 'ff'.repeat(16), '03' + '00'.repeat(15)],
    [r('02') + 'ff'.repeat(16), '02' + '00'.repeat(15), '03' + '00'.repeat(15)],
    [r('01') + '00'.repeat(16), 'ff'.repeat(16) + 'f0' + 'ff'.repeat(15) + '11' + '00'.repeat(15), '05' + '00'.repeat(15)],
    [r('01') + '00'.repeat(16), 'ff'.repeat(16) + 'fb' + 'fe'.repeat(15) + '01'.repeat(16), '00'.repeat(16)],
    [r('02') + '00'.repeat(16), 'fd' + 'ff'.repeat(15), 'fa' + 'ff'.repeat(15)],
    [
      '01000000000000000400000000000000' + '00'.repeat(16),
      'e33594d7505e43b900000000000000003394d7505e4379cd01000000000000000000000000000000000000000000000001000000000000000000000000000000',
      '14000000000000005500000000000000',
    ],
    ['01000000000000000400000000000000' + '00'.repeat(16), 'e33594d7505e43b900000000000000003394d7505e4379cd010000000000000000000000000000000000000000000000', '13000000000000000000000000000000'],
  ];
  for (const [key, data, expected] of cases) {
    assert.equal(tag(hex(key), hex(data)), expected, `key ${key}, data ${data}`);
    assert.equal(floatTag(hex(key), hex(data)), expected, `float: key ${key}, data ${data}`);
  }
});

it('agrees with @noble/ciphers on random and all-ones keys and messages of every length up to 300 bytes and on large ones', () => {
  let seed = 0;
  const bytes = (n: number, fill?: number): Buffer => {
    if (fill !== undefined) return Buffer.alloc(n, fill);
    const out = Buffer.allocUnsafe(n);
    for (let off = 0; off < n; off += 32) createHash('sha256').update(`poly:${seed++}`).digest().copy(out, off);
    return out;
  };
  const lengths = [...Array.from({ length: 301 }, (_, i) => i), 4095, 4096, 65_537, 1_048_576 + 3];
  for (const n of lengths) {
    for (const [keyFill, msgFill] of [[undefined, undefined], [0xff, 0xff], [0xff, undefined], [undefined, 0xff]] as const) {
      const key = bytes(32, keyFill);
      const msg = bytes(n, msgFill);
      const expected = nobleTag(key, msg);
      assert.equal(tag(key, msg), expected, `length ${n}, key fill ${keyFill}, message fill ${msgFill}`);
      assert.equal(floatTag(key, msg), expected, `float: length ${n}, key fill ${keyFill}, message fill ${msgFill}`);
    }
  }
  // A message that is a view into a larger buffer at an odd offset.
  const big = bytes(1000);
  const key = bytes(32);
  assert.equal(tag(key, big.subarray(3, 777)), Buffer.from(new Poly1305(key).update(big.subarray(3, 777)).digest()).toString('hex'));
});

it('agrees with @noble/ciphers on fresh random keys and messages (lengths across the WebAssembly memory window of 64 KiB)', () => {
  const lengths = [0, 1, 15, 16, 17, 65_520, 65_535, 65_536, 65_537, 131_072 + 5, ...Array.from({ length: 40 }, () => randomInt(0, 200_000))];
  for (const n of lengths) {
    const key = randomBytes(32);
    // Some keys and messages with long runs of 0xff bytes: limbs at their largest.
    if (randomInt(0, 4) === 0) key.fill(0xff, 0, 16);
    const msg = randomBytes(n + 7).subarray(randomInt(0, 8)).subarray(0, n);
    if (randomInt(0, 4) === 0) msg.fill(0xff, 0, randomInt(0, n + 1));
    const expected = nobleTag(key, msg);
    const what = `key ${key.toString('hex')}, message of ${n} bytes starting ${Buffer.from(msg.subarray(0, 32)).toString('hex')}`;
    assert.equal(tag(key, msg), expected, what);
    assert.equal(floatTag(key, msg), expected, `float: ${what}`);
  }
});

it('refuses a key of another length', () => {
  assert.throws(() => poly1305(new Uint8Array(31), new Uint8Array(1)), RangeError);
  assert.throws(() => poly1305Float(new Uint8Array(33), new Uint8Array(1)), RangeError);
});
