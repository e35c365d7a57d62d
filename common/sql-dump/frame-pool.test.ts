import assert from 'node:assert/strict';
import { it } from 'node:test';
import { FramePool } from './frame-pool.ts';

it('hands a returned buffer to the next statement of its size class, as a view of exactly the size asked', () => {
  const pool = new FramePool({ minBytes: 1024, maxFreeBytes: 1 << 20 });
  const a = pool.acquire(5000);
  assert.equal(a.length, 5000);
  assert.equal(a.buffer.byteLength, 8192, 'a power-of-two class');
  pool.release(a.subarray(5)); // the statement's text: a view of the same memory
  assert.equal(pool.freeBytes, 8192);
  const b = pool.acquire(4100);
  assert.equal(b.buffer, a.buffer, 'the same memory again');
  assert.equal(b.length, 4100);
  assert.equal(pool.reused, 1);
  const c = pool.acquire(5000);
  assert.notEqual(c.buffer, a.buffer, 'in use: not handed out twice');
});

it('takes back only what it handed out, once', () => {
  const pool = new FramePool({ minBytes: 1024, maxFreeBytes: 1 << 20 });
  pool.release(Buffer.allocUnsafeSlow(4096));
  pool.release(undefined);
  assert.equal(pool.freeBytes, 0, 'a buffer from elsewhere is ignored');
  const a = pool.acquire(3000);
  pool.release(a);
  pool.release(a);
  assert.equal(pool.freeBytes, 4096, 'a second release of the same buffer is ignored');
  const b = pool.acquire(3000);
  const c = pool.acquire(3000);
  assert.notEqual(b.buffer, c.buffer, 'one buffer never goes to two statements');
});

it('keeps at most maxFreeBytes and allocates small statements plainly', () => {
  const pool = new FramePool({ minBytes: 1024, maxFreeBytes: 10_000 });
  const bufs = [pool.acquire(4096), pool.acquire(4096), pool.acquire(4096)];
  for (const b of bufs) pool.release(b);
  assert.equal(pool.freeBytes, 8192, 'the third is left to the collector');
  const small = pool.acquire(100);
  assert.equal(small.length, 100);
  pool.release(small);
  assert.equal(pool.freeBytes, 8192, 'small ones are not pooled');
});
