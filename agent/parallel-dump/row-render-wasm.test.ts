// The row packet renderer against renderRow (row-render.ts) on the same values: every column
// kind, NULL, empty values, every byte to escape at every position of short values and at the
// block edges of long ones, each length prefix, rows too large for the module's memory, and
// malformed packets; InsertBuilder's addPacket against add().
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { InsertBuilder } from './insert-builder.ts';
import type { ColumnKind } from './row-render.ts';
import { maxRenderedBytes, renderRow } from './row-render.ts';
import { IN_BYTES, decodeRowPacket, packetRowRenderer } from './row-render-wasm.ts';

const r = packetRowRenderer();
const SPECIAL = [0x00, 0x0a, 0x0d, 0x22, 0x27, 0x5c, 0x1a];
const NEAR = [0x01, 0x09, 0x0b, 0x0c, 0x0e, 0x19, 0x1b, 0x21, 0x23, 0x26, 0x28, 0x5b, 0x5d, 0x7f, 0x80, 0xa7, 0xdc, 0xff];

/** A length-encoded integer as the server writes it (the shortest form). */
function lenenc(n: number): Buffer {
  if (n < 0xfb) return Buffer.from([n]);
  if (n < 0x10000) return Buffer.from([0xfc, n & 0xff, n >> 8]);
  if (n < 0x1000000) return Buffer.from([0xfd, n & 0xff, (n >> 8) & 0xff, n >> 16]);
  const b = Buffer.alloc(9);
  b[0] = 0xfe;
  b.writeBigUInt64LE(BigInt(n), 1);
  return b;
}

/** A text-protocol row packet's payload holding these values. */
function packet(row: readonly (Buffer | null)[]): Buffer {
  return Buffer.concat(row.map((v) => (v === null ? Buffer.from([0xfb]) : Buffer.concat([lenenc(v.length), v]))));
}

function viaRenderRow(row: readonly (Buffer | null)[], kinds: readonly ColumnKind[]): string {
  const out = Buffer.alloc(maxRenderedBytes(row));
  return out.subarray(0, renderRow(row, kinds, 'client', out, 0)).toString('latin1');
}

function viaPacket(row: readonly (Buffer | null)[], kinds: readonly ColumnKind[], pad = 0): string {
  // At an offset inside a larger buffer, as a packet sits in a socket's read.
  const p = packet(row);
  const buf = Buffer.concat([Buffer.alloc(pad, 0xee), p, Buffer.alloc(3, 0xee)]);
  const n = r!.render(buf, pad, pad + p.length, kinds);
  assert.ok(n >= 0);
  return Buffer.from(r!.out.subarray(0, n)).toString('latin1');
}

function pseudoRandom(bytes: number, seed: string): Buffer {
  const out = Buffer.allocUnsafe(bytes + 32);
  for (let off = 0, i = 0; off < bytes; off += 32, i++) createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out.subarray(0, bytes);
}

describe('row packet renderer', () => {
  it('is available where WebAssembly SIMD is (Node.js and Deno)', () => {
    assert.ok(r);
  });

  it('renders every column kind, NULL and empty values as renderRow does', () => {
    const kinds: ColumnKind[] = ['number', 'string', 'binary', 'binary', 'bit', 'string', 'string', 'number', 'bit'];
    const rows: (Buffer | null)[][] = [
      [Buffer.from('-12.5e3'), Buffer.from("it's \\ \"q\"\n\r\0\x1a;"), Buffer.from([0, 255, 39]), Buffer.alloc(0), Buffer.from([1, 0, 0xab]), null, Buffer.alloc(0), null, null],
      [Buffer.from('18446744073709551615'), Buffer.from('€ 𝄞 utf8mb4'), pseudoRandom(300, 'b'), Buffer.alloc(70_000 >> 4, 0x5c), Buffer.alloc(0), Buffer.from('x'.repeat(250)), Buffer.from('y'.repeat(251)), Buffer.from('0'), Buffer.from([0xff])],
    ];
    for (const row of rows) for (const pad of [0, 5]) assert.equal(viaPacket(row, kinds, pad), viaRenderRow(row, kinds));
  });

  it('escapes each byte that needs it at every position of short values, and keeps every other byte', () => {
    for (let n = 1; n <= 70; n++) {
      const v = Buffer.alloc(n, 0x61);
      for (const c of [...SPECIAL, ...NEAR]) {
        for (let i = 0; i < n; i++) {
          v.fill(0x61);
          v[i] = c;
          v[(i * 7) % n] = c;
          assert.equal(viaPacket([v, v], ['string', 'binary']), viaRenderRow([v, v], ['string', 'binary']), `byte ${c} at ${i} of ${n}`);
        }
      }
    }
  });

  it('renders long and random values, every byte value, as renderRow does', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    for (const n of [15, 16, 17, 31, 32, 33, 1000, 20_000]) {
      const v = pseudoRandom(n, `r${n}`);
      assert.equal(viaPacket([v, all, v], ['string', 'binary', 'bit']), viaRenderRow([v, all, v], ['string', 'binary', 'bit']), `random ${n}`);
    }
  });

  it('leaves rows too large for its memory to renderRow: decodeRowPacket gives their values, every length prefix', () => {
    const big = pseudoRandom(IN_BYTES, 'big');
    const row = [Buffer.from('7'), big];
    const p = packet(row);
    assert.equal(p[2], 0xfd);
    assert.equal(r!.render(p, 0, p.length, ['number', 'binary']), -1);
    assert.deepEqual(decodeRowPacket(p, 0, p.length, 2), row);
    // The 8-byte prefix (values of 16 MiB and more) on a short value: the server never sends it, but it decodes.
    const long = Buffer.concat([Buffer.from([0xfe, 3, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('abc'), Buffer.from([0xfb])]);
    assert.deepEqual(decodeRowPacket(long, 0, long.length, 2), [Buffer.from('abc'), null]);
    assert.equal(Buffer.from(r!.out.subarray(0, r!.render(long, 0, long.length, ['string', 'string']))).toString(), "('abc',NULL)");
  });

  it('refuses a packet that does not hold exactly its columns, or whose value passes its end', () => {
    const p = packet([Buffer.from('a'), Buffer.from('bc')]);
    for (const f of [(b: Buffer, n: number) => r!.render(b, 0, b.length, new Array<ColumnKind>(n).fill('string')), (b: Buffer, n: number) => decodeRowPacket(b, 0, b.length, n)]) {
      assert.throws(() => f(p, 3), /fewer values/);
      assert.throws(() => f(p, 1), /more values/);
      assert.throws(() => f(p.subarray(0, p.length - 1), 2), /ends inside a value/);
      assert.throws(() => f(Buffer.from([0xff]), 1), /no valid length/);
    }
  });
});

describe('InsertBuilder.addPacket', () => {
  it('hands on the same pieces as add() of the same rows, large rows and statement cuts included', () => {
    const kinds: ColumnKind[] = ['number', 'string', 'binary'];
    const rows: (Buffer | null)[][] = [];
    for (let i = 0; i < 400; i++) rows.push([Buffer.from(String(i)), i % 9 === 0 ? null : Buffer.from(`row ${i} '${'q'.repeat(i % 300)}'\n`), pseudoRandom(i % 50, `p${i}`)]);
    rows.splice(200, 0, [Buffer.from('-1'), pseudoRandom(IN_BYTES + 10, 'huge'), Buffer.alloc(3000, 0)]);
    const run = (useAdd: boolean): Buffer[] => {
      const pieces: Buffer[] = [];
      const b = new InsertBuilder('INSERT INTO `t` VALUES ', kinds, 'client', 16_384, (s) => pieces.push(Buffer.from(s)), 1000);
      for (const row of rows) {
        if (useAdd) b.add(row);
        else {
          const p = Buffer.concat([Buffer.from([1, 2]), packet(row)]);
          b.addPacket(p, 2, p.length);
        }
      }
      b.flush();
      assert.equal(b.rowCount, rows.length);
      return pieces;
    };
    const want = run(true);
    const got = run(false);
    assert.equal(got.length, want.length);
    assert.deepEqual(Buffer.concat(got), Buffer.concat(want));
    assert.deepEqual(got.map((p) => p.length), want.map((p) => p.length));
  });
});

describe('InsertBuilder pieces', () => {
  it('hands on the end of a small chunk as a copy of its size, and gives its piece back to the pool', async () => {
    const { PiecePool } = await import('./piece-pool.ts');
    const pool = new PiecePool(1024);
    const pieces: Buffer[] = [];
    const b = new InsertBuilder('INSERT INTO `t` VALUES ', ['string'], 'client', 1 << 20, (s) => pieces.push(s), 1024, pool);
    for (let i = 0; i < 22; i++) b.add([Buffer.from(`row ${i} ${'x'.repeat(40)}`)]);
    b.flush();
    assert.ok(pieces.length >= 2);
    const last = pieces.at(-1)!;
    assert.ok(last.length <= 512);
    assert.notEqual(last.buffer.byteLength, 1024, 'not a view of a piece');
    for (const p of pieces.slice(0, -1)) assert.equal(p.length, 1024);
    // The small end's piece went back: the next piece is made from it.
    const made = pool.allocated;
    pool.acquire();
    assert.equal(pool.allocated, made);
    assert.equal(pool.reused, 1);
  });
});
