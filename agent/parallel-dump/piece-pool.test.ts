// The dumper's piece pool: a piece given back is handed out again; only the Buffer that went out
// (the piece, or the view of it handed on) gives it back: a part of it, a foreign Buffer, a second
// release, or more idle pieces than the bound change nothing.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { PiecePool } from './piece-pool.ts';

it('hands a released piece out again, whole, and only once; a part of a piece never releases it', () => {
  const pool = new PiecePool(1024, 2);
  const a = pool.acquire();
  assert.equal(a.length, 1024);
  assert.equal(pool.allocated, 1);
  // A stream that split the piece: its first part is read, the rest still waits.
  pool.release(a.subarray(0, 10));
  assert.notEqual(pool.acquire().buffer, a.buffer);
  assert.equal(pool.reused, 0);
  pool.release(a);
  const b = pool.acquire();
  assert.equal(b.buffer, a.buffer);
  assert.equal(b.length, 1024);
  assert.equal(pool.reused, 1);
  // Released twice above, handed out once: the next piece is new memory.
  const c = pool.acquire();
  assert.notEqual(c.buffer, a.buffer);
  assert.equal(pool.allocated, 3);
});

it('takes back the view handed on in place of the piece, and not the piece itself then', () => {
  const pool = new PiecePool(1024, 2);
  const a = pool.acquire();
  const view = a.subarray(0, 700);
  pool.handOn(view);
  pool.release(a);
  pool.release(view.subarray(0, 700));
  assert.notEqual(pool.acquire().buffer, a.buffer);
  pool.release(view);
  assert.equal(pool.acquire().buffer, a.buffer);
  assert.equal(pool.reused, 1);
});

it('ignores Buffers it did not hand out, and keeps at most its bound of idle pieces', () => {
  const pool = new PiecePool(1024, 2);
  pool.release(Buffer.alloc(1024));
  pool.release(Buffer.from('header text'));
  assert.equal(pool.acquire().length, 1024);
  assert.equal(pool.reused, 0);
  const pieces = [pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire()];
  for (const p of pieces) pool.release(p);
  const again = [pool.acquire(), pool.acquire(), pool.acquire()];
  assert.equal(pool.reused, 2);
  assert.deepEqual(new Set(again.slice(0, 2).map((p) => p.buffer)), new Set(pieces.slice(0, 2).map((p) => p.buffer)));
});
