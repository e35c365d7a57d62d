// Poly1305 (RFC 8439 section 2.5). restic MACs every blob and file, on every backup and
// restore. poly1305() runs the blocks in WebAssembly (poly1305-wasm.ts, 26-bit limbs in 64-bit
// integers); where the runtime has no WebAssembly (node --jitless) it runs poly1305Float, below.
//
// poly1305Float: radix 2^22 with float64 arithmetic, 2.5x faster than @noble/ciphers'
// 16-bit-limb version (measured: ~460 vs ~185 MiB/s on one core).
//
// The accumulator h and the key r are six 22-bit limbs (132 bits). Limb products are exact in
// a double as long as every sum stays below 2^53; 2^132 = 4 * 2^130 ≡ 20 (mod 2^130 - 5), so
// the high half of the product folds back with a factor of 20.
//
// Why no sum reaches 2^53: after a block every limb is below 2^22 except h0, which also holds
// 20 * c5 (c5, the carry out of the top limb, is below 2^25.4, see d5 below), so h0 < 2^29.8.
// Adding a message block (22-bit limbs; the top one 19 bits) gives h_i < 2^23 and
// h0 < 2^29.8 + 2^23. Clamping leaves r < 2^124: r0..r4 < 2^22, r5 < 2^14, so s_i = 20 r_i
// < 2^26.33. Then each d_j is at most h0 * 2^22 (< 2^51.75) plus five terms below
// 2^23 * 2^26.33 = 2^49.33, plus a carry below 2^31: d_j < 6.6e15 < 2^53 = 9.0e15. For d5:
// five terms below 2^45 and h0 * r5 < 2^44, so d5 < 2^47.4 and c5 < 2^25.4, as assumed.
// The randomized and all-ones tests in poly1305.test.ts check this against an independent
// implementation.

import { DATA_BYTES, DATA_OFFSET, poly1305Wasm } from './poly1305-wasm.ts';
import type { Poly1305Wasm } from './poly1305-wasm.ts';

const LIMB = 4194304; // 2^22
const INV_LIMB = 1 / LIMB;
const P = (1n << 130n) - 5n;
const MASK_128 = (1n << 128n) - 1n;
/** The 2^128 bit every full block gets, as it falls in the top limb (bit 128 - 110). */
const HIBIT = 1 << 18;

export const POLY1305_KEY_BYTES = 32;
export const POLY1305_TAG_BYTES = 16;

/** Absorbs the 16-byte blocks of v[from..to) into h. r holds r0..r5, then s1..s5. */
function blocks(h: Float64Array, r: Float64Array, v: DataView, from: number, to: number, hibit: number): void {
  const r0 = r[0]!;
  const r1 = r[1]!;
  const r2 = r[2]!;
  const r3 = r[3]!;
  const r4 = r[4]!;
  const r5 = r[5]!;
  const s1 = r[6]!;
  const s2 = r[7]!;
  const s3 = r[8]!;
  const s4 = r[9]!;
  const s5 = r[10]!;
  let h0 = h[0]!;
  let h1 = h[1]!;
  let h2 = h[2]!;
  let h3 = h[3]!;
  let h4 = h[4]!;
  let h5 = h[5]!;
  for (let o = from; o < to; o += 16) {
    const w0 = v.getUint32(o, true);
    const w1 = v.getUint32(o + 4, true);
    const w2 = v.getUint32(o + 8, true);
    const w3 = v.getUint32(o + 12, true);
    h0 += w0 & 0x3fffff;
    h1 += (w0 >>> 22) | ((w1 & 0xfff) << 10);
    h2 += (w1 >>> 12) | ((w2 & 0x3) << 20);
    h3 += (w2 >>> 2) & 0x3fffff;
    h4 += (w2 >>> 24) | ((w3 & 0x3fff) << 8);
    h5 += (w3 >>> 14) | hibit;
    const d0 = h0 * r0 + h1 * s5 + h2 * s4 + h3 * s3 + h4 * s2 + h5 * s1;
    let d1 = h0 * r1 + h1 * r0 + h2 * s5 + h3 * s4 + h4 * s3 + h5 * s2;
    let d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s5 + h4 * s4 + h5 * s3;
    let d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s5 + h5 * s4;
    let d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0 + h5 * s5;
    let d5 = h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0;
    // Carries: multiplying by 2^-22 is exact, so floor() gives the exact quotient.
    let c = Math.floor(d0 * INV_LIMB);
    h0 = d0 - c * LIMB;
    d1 += c;
    c = Math.floor(d1 * INV_LIMB);
    h1 = d1 - c * LIMB;
    d2 += c;
    c = Math.floor(d2 * INV_LIMB);
    h2 = d2 - c * LIMB;
    d3 += c;
    c = Math.floor(d3 * INV_LIMB);
    h3 = d3 - c * LIMB;
    d4 += c;
    c = Math.floor(d4 * INV_LIMB);
    h4 = d4 - c * LIMB;
    d5 += c;
    c = Math.floor(d5 * INV_LIMB);
    h5 = d5 - c * LIMB;
    h0 += 20 * c;
  }
  h[0] = h0;
  h[1] = h1;
  h[2] = h2;
  h[3] = h3;
  h[4] = h4;
  h[5] = h5;
}

/**
 * The Poly1305 tag of `message` under the one-time key r || s (32 bytes; r is clamped here).
 */
export function poly1305(key: Uint8Array, message: Uint8Array): Uint8Array {
  if (key.length !== POLY1305_KEY_BYTES) throw new RangeError(`Poly1305 key must be ${POLY1305_KEY_BYTES} bytes`);
  const wasm = poly1305Wasm();
  return wasm ? poly1305In(wasm, key, message) : poly1305Float(key, message);
}

/** Which implementation poly1305() runs in this runtime. */
export function poly1305Implementation(): 'wasm' | 'float' {
  return poly1305Wasm() ? 'wasm' : 'float';
}

/** poly1305() in WebAssembly: the message goes through the module's memory DATA_BYTES at a time. */
export function poly1305In(wasm: Poly1305Wasm, key: Uint8Array, message: Uint8Array): Uint8Array {
  if (key.length !== POLY1305_KEY_BYTES) throw new RangeError(`Poly1305 key must be ${POLY1305_KEY_BYTES} bytes`);
  const kv = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const mem = new Uint8Array(wasm.memory.buffer);
  const m32 = new Uint32Array(wasm.memory.buffer, 0, 20);
  m32.fill(0); // h = 0; the high words of r
  m32[10] = kv.getUint32(0, true) & 0x3ffffff;
  m32[12] = (kv.getUint32(3, true) >>> 2) & 0x3ffff03;
  m32[14] = (kv.getUint32(6, true) >>> 4) & 0x3ffc0ff;
  m32[16] = (kv.getUint32(9, true) >>> 6) & 0x3f03fff;
  m32[18] = (kv.getUint32(12, true) >>> 8) & 0x00fffff;
  const full = message.length - (message.length % 16);
  for (let at = 0; at < full; at += DATA_BYTES) {
    const n = Math.min(DATA_BYTES, full - at);
    mem.set(message.subarray(at, at + n), DATA_OFFSET);
    wasm.blocks(DATA_OFFSET, DATA_OFFSET + n, 1 << 24);
  }
  if (full < message.length) {
    // The last partial block: its bytes, a 1, zeros, and no 2^128 bit.
    mem.fill(0, DATA_OFFSET, DATA_OFFSET + 16);
    mem.set(message.subarray(full), DATA_OFFSET);
    mem[DATA_OFFSET + message.length - full] = 1;
    wasm.blocks(DATA_OFFSET, DATA_OFFSET + 16, 0);
  }
  // Each limb is below 2^32 after the block function's last carry: its high word is 0.
  let acc = 0n;
  for (let i = 4; i >= 0; i--) acc = (acc << 26n) + BigInt(m32[2 * i]!) + (BigInt(m32[2 * i + 1]!) << 32n);
  return finish(acc, key);
}

/** poly1305() in float64 arithmetic, for a runtime without WebAssembly. */
export function poly1305Float(key: Uint8Array, message: Uint8Array): Uint8Array {
  if (key.length !== POLY1305_KEY_BYTES) throw new RangeError(`Poly1305 key must be ${POLY1305_KEY_BYTES} bytes`);
  const kv = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const k0 = kv.getUint32(0, true) & 0x0fffffff;
  const k1 = kv.getUint32(4, true) & 0x0ffffffc;
  const k2 = kv.getUint32(8, true) & 0x0ffffffc;
  const k3 = kv.getUint32(12, true) & 0x0ffffffc;
  const r = new Float64Array(11);
  r[0] = k0 & 0x3fffff;
  r[1] = (k0 >>> 22) | ((k1 & 0xfff) << 10);
  r[2] = (k1 >>> 12) | ((k2 & 0x3) << 20);
  r[3] = (k2 >>> 2) & 0x3fffff;
  r[4] = (k2 >>> 24) | ((k3 & 0x3fff) << 8);
  r[5] = k3 >>> 14;
  for (let i = 1; i <= 5; i++) r[5 + i] = 20 * r[i]!;
  const h = new Float64Array(6);
  const full = message.length - (message.length % 16); // not `& ~15`: lengths may pass 2^31
  blocks(h, r, new DataView(message.buffer, message.byteOffset, message.byteLength), 0, full, HIBIT);
  if (full < message.length) {
    // The last partial block: its bytes, a 1, zeros, and no 2^128 bit.
    const last = new Uint8Array(16);
    last.set(message.subarray(full));
    last[message.length - full] = 1;
    blocks(h, r, new DataView(last.buffer), 0, 16, 0);
  }
  let acc = 0n;
  for (let i = 5; i >= 0; i--) acc = (acc << 22n) + BigInt(h[i]!);
  return finish(acc, key);
}

/** The tag: the accumulator reduced mod 2^130 - 5, plus s (the key's second half), mod 2^128. */
function finish(acc: bigint, key: Uint8Array): Uint8Array {
  let s = 0n;
  for (let i = 31; i >= 16; i--) s = (s << 8n) | BigInt(key[i]!);
  let tag = ((acc % P) + s) & MASK_128;
  const out = new Uint8Array(POLY1305_TAG_BYTES);
  for (let i = 0; i < POLY1305_TAG_BYTES; i++) {
    out[i] = Number(tag & 0xffn);
    tag >>= 8n;
  }
  return out;
}
