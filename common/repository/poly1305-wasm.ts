// Poly1305's block function in WebAssembly: poly1305-donna-32's arithmetic (five 26-bit limbs,
// 25 exact 64-bit multiplications per 16-byte block), which JavaScript cannot do without
// floating point (poly1305.ts's fallback needs 36 multiplications in 22-bit limbs and exact
// float rounding). Measured (bench/components.bench.ts style, 64 MiB in 1 MiB messages, CPU
// time on a shared 2-core machine): ~1100 MiB/s, against ~290 MiB/s for the float version.
//
// The module is assembled here from its instructions, at first use (about 300 bytes): no binary
// blob to trust, and the code below is the whole of it. No npm package offers a raw Poly1305 in
// WebAssembly short of all of libsodium (an asynchronous start-up and ~1 MiB more memory).
//
// Memory (2 pages, never grown): h0..h4 as i64 at 0..39, r0..r4 at 40..79, message bytes from
// DATA_OFFSET. blocks(from, to, hibit) absorbs the 16-byte blocks at [from, to) into h.
//
// Bounds (as in donna-32): after a block every limb is below 2^26 but h1 (below 2^26 + 2^6);
// adding the message's limbs keeps each below 2^27. r_i < 2^26 and s_i = 5 r_i < 2^28.33, so
// each of the five products of a d_j is below 2^55.33, d_j < 2^58 (plus a carry below 2^33):
// no i64 wraps, and every sum is exact.
import { leb, section, sleb } from '../wasm-encoding.ts';

const I32 = 0x7f;
const I64 = 0x7e;
/** Where the message bytes start in the module's memory, and how many fit. */
export const DATA_OFFSET = 128;
export const DATA_BYTES = 65536;


const vec = (items: number[][]): number[] => [...leb(items.length), ...items.flat()];
const name = (s: string): number[] => [...leb(s.length), ...Buffer.from(s, 'latin1')];

// Instructions.
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const tee = (i: number) => [0x22, i];
const i32c = (v: number) => [0x41, ...sleb(v)];
const i64c = (v: number) => [0x42, ...sleb(v)];
const I32_ADD = 0x6a;
const I32_LT_U = 0x49;
const I32_GE_U = 0x4f;
const I64_ADD = 0x7c;
const I64_MUL = 0x7e;
const I64_AND = 0x83;
const I64_OR = 0x84;
const I64_SHR_U = 0x88;
const I64_EXTEND_I32_U = 0xad;
const load64 = (offset: number) => [0x29, 3, ...leb(offset)];
const load32u = (offset: number) => [0x35, 0, ...leb(offset)];
const store64 = (offset: number) => [0x37, 3, ...leb(offset)];
const END = 0x0b;

/** The module's bytes. */
export function poly1305Module(): Uint8Array {
  // Locals: params from, to, hibit (i32); then i64 r0..r4, s1..s4, h0..h4, d0..d4, c.
  const FROM = 0;
  const TO = 1;
  const HIBIT = 2;
  const r = [3, 4, 5, 6, 7];
  const s = [-1, 8, 9, 10, 11];
  const h = [12, 13, 14, 15, 16];
  const d = [17, 18, 19, 20, 21];
  const C = 22;
  const mask = i64c(0x3ffffff);
  const body: number[] = [];
  const emit = (...xs: (number | number[])[]) => {
    for (const x of xs) if (typeof x === 'number') body.push(x);
    else body.push(...x);
  };
  for (let i = 0; i < 5; i++) emit(i32c(0), load64(40 + 8 * i), set(r[i]!), i32c(0), load64(8 * i), set(h[i]!));
  for (let i = 1; i < 5; i++) emit(get(r[i]!), i64c(5), I64_MUL, set(s[i]!));
  // block { if from >= to: break; loop { ... } }
  emit(0x02, 0x40, get(FROM), get(TO), I32_GE_U, 0x0d, 0, 0x03, 0x40);
  // h += the block's 26-bit limbs (the top one with the 2^128 bit, hibit).
  emit(get(h[0]!), get(FROM), load32u(0), mask, I64_AND, I64_ADD, set(h[0]!));
  for (let i = 1; i < 4; i++) emit(get(h[i]!), get(FROM), load32u(3 * i), i64c(2 * i), I64_SHR_U, mask, I64_AND, I64_ADD, set(h[i]!));
  emit(get(h[4]!), get(FROM), load32u(12), i64c(8), I64_SHR_U, get(HIBIT), I64_EXTEND_I32_U, I64_OR, I64_ADD, set(h[4]!));
  // d_j = sum over i of h_i * (r_{j-i} or, wrapped past 2^130, s_{i-j+5} = 5 r).
  for (let j = 0; j < 5; j++) {
    for (let i = 0; i < 5; i++) {
      emit(get(h[i]!), get(i <= j ? r[j - i]! : s[5 + j - i]!), I64_MUL);
      if (i > 0) emit(I64_ADD);
    }
    emit(set(d[j]!));
  }
  // Carries: h_j = d_j mod 2^26, the rest into d_{j+1}; the top carry times 5 into h0.
  emit(get(d[0]!), i64c(26), I64_SHR_U, set(C), get(d[0]!), mask, I64_AND, set(h[0]!));
  for (let j = 1; j < 5; j++) emit(get(d[j]!), get(C), I64_ADD, tee(d[j]!), i64c(26), I64_SHR_U, set(C), get(d[j]!), mask, I64_AND, set(h[j]!));
  emit(get(h[0]!), get(C), i64c(5), I64_MUL, I64_ADD, tee(h[0]!), i64c(26), I64_SHR_U, set(C), get(h[0]!), mask, I64_AND, set(h[0]!));
  emit(get(h[1]!), get(C), I64_ADD, set(h[1]!));
  // from += 16; loop while from < to.
  emit(get(FROM), i32c(16), I32_ADD, tee(FROM), get(TO), I32_LT_U, 0x0d, 0, END, END);
  for (let i = 0; i < 5; i++) emit(i32c(0), get(h[i]!), store64(8 * i));
  emit(END);
  const code = [...vec([[20, I64]]), ...body];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32]]), ...vec([])]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, 2]])),
    ...section(7, vec([[...name('blocks'), 0x00, 0], [...name('memory'), 0x02, 0]])),
    ...section(10, vec([[...leb(code.length), ...code]])),
  ]);
}

export interface Poly1305Wasm {
  memory: { buffer: ArrayBuffer };
  blocks(from: number, to: number, hibit: number): void;
}

/** The part of the WebAssembly global this module uses (the project's lib has no DOM types). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

let instance: Poly1305Wasm | undefined | null = null;

/** The compiled module's one instance, or undefined where the runtime has no WebAssembly (node --jitless). */
export function poly1305Wasm(): Poly1305Wasm | undefined {
  if (instance !== null) return instance;
  try {
    const wasm = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
    instance = wasm ? (new wasm.Instance(new wasm.Module(poly1305Module())).exports as unknown as Poly1305Wasm) : undefined;
  } catch {
    instance = undefined;
  }
  return instance;
}
