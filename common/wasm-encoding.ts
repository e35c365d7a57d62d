// The WebAssembly binary encoding's small pieces (core spec, section 5), shared by the modules
// this project assembles at run time from their instructions, with no build step and no
// toolchain: the chunker's lanes (common/repository/chunker-wasm.ts), Poly1305
// (common/repository/poly1305-wasm.ts) and the parallel dumper's escape scan
// (agent/parallel-dump/escape-scan-wasm.ts).

/** Unsigned LEB128 (counts, lengths, indexes, memory offsets). */
export function leb(n: number): number[] {
  const out: number[] = [];
  do {
    const byte = n & 0x7f;
    n >>>= 7;
    out.push(n === 0 ? byte : byte | 0x80);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (the immediates of i32.const and i64.const), for values within 32 bits. */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

/** `i32.const n`. */
export const i32Const = (n: number): number[] => [0x41, ...sleb(n)];

/** A section: its id, then its contents' length. */
export const section = (id: number, contents: number[]): number[] => [id, ...leb(contents.length), ...contents];
