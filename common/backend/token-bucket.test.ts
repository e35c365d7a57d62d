import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, abortError, isSidestashError } from '../errors.ts';
import { TokenBucket, refundBytes, reserveBytes } from './token-bucket.ts';
import type { BucketState, TokenBucketClock } from './token-bucket.ts';
import { RateLimitedBackend, limitUploadProblem, uploadBucket } from './rate-limit.ts';
import type { Backend } from './backend.ts';
import { pacedSlices } from './paced-body.ts';

const rate = { bytesPerSecond: 1000, capacityBytes: 1000 };

describe('reserveBytes (1000 B/s, capacity 1000 B)', () => {
  const cases: [string, BucketState, number, number, BucketState, number][] = [
    // name, before, bytes, now, after, wait
    ['full bucket, small body: no wait', { tokens: 1000, atMs: 0 }, 400, 0, { tokens: 600, atMs: 0 }, 0],
    ['exactly the bucket', { tokens: 1000, atMs: 0 }, 1000, 0, { tokens: 0, atMs: 0 }, 0],
    ['larger than the bucket: debt, wait for it', { tokens: 1000, atMs: 0 }, 3000, 0, { tokens: -2000, atMs: 0 }, 2000],
    ['empty bucket refills with time', { tokens: 0, atMs: 0 }, 500, 500, { tokens: 0, atMs: 500 }, 0],
    ['refill is capped at the capacity', { tokens: 0, atMs: 0 }, 1500, 10_000, { tokens: -500, atMs: 10_000 }, 500],
    ['a second caller queues behind the debt', { tokens: -2000, atMs: 0 }, 1000, 0, { tokens: -3000, atMs: 0 }, 3000],
    ['debt is paid off by time', { tokens: -2000, atMs: 0 }, 1000, 1000, { tokens: -2000, atMs: 1000 }, 2000],
    ['a clock that goes back is ignored', { tokens: 0, atMs: 1000 }, 100, 900, { tokens: -100, atMs: 1000 }, 100],
    ['zero bytes never wait on a full bucket', { tokens: 1000, atMs: 0 }, 0, 0, { tokens: 1000, atMs: 0 }, 0],
  ];
  for (const [name, before, bytes, now, after, wait] of cases) {
    it(name, () => assert.deepEqual(reserveBytes(before, rate, bytes, now), { state: after, waitMs: wait }));
  }

  it('a refund returns the tokens, capped at the capacity', () => {
    assert.deepEqual(refundBytes({ tokens: -2000, atMs: 5 }, rate, 1500), { tokens: -500, atMs: 5 });
    assert.deepEqual(refundBytes({ tokens: 900, atMs: 5 }, rate, 1500), { tokens: 1000, atMs: 5 });
  });
});

/** A clock that only moves when someone sleeps. */
function fakeClock(): TokenBucketClock & { t: number; slept: number[] } {
  const c = {
    t: 0,
    slept: [] as number[],
    nowMs: () => c.t,
    sleep: async (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw abortError(signal);
      c.slept.push(ms);
      c.t += ms;
    },
  };
  return c;
}

describe('TokenBucket on a fake clock', () => {
  it('sends 10 s worth in 9 s of waiting (the first second is the full bucket), in order', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(1000, clock);
    for (let i = 0; i < 10; i++) await bucket.take(1000);
    assert.equal(clock.t, 9000);
  });

  it('an aborted caller waits for nothing and gives its tokens back', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(1000, clock);
    await bucket.take(1000);
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(bucket.take(5000, ac.signal), (err: unknown) => isSidestashError(err, ErrorCodes.ABORTED));
    await bucket.take(1000);
    assert.deepEqual(clock.slept, [1000]);
  });

  it('refuses a rate that is not positive', () => {
    assert.throws(() => new TokenBucket(0));
    assert.throws(() => new TokenBucket(Number.NaN));
  });
});

describe('RateLimitedBackend', () => {
  function recording(): Backend & { calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      location: 'memory:',
      create: async () => void calls.push('create'),
      save: async (h) => void calls.push(`save ${h.name}`),
      load: async (h) => (calls.push(`load ${h.name}`), new Uint8Array(5000)),
      stat: async (h) => ({ name: h.name, sizeBytes: 0 }),
      list: async function* () {},
      remove: async (h) => void calls.push(`remove ${h.name}`),
      close: async () => {},
    };
  }

  it('charges save() bodies, not loads', async () => {
    const clock = fakeClock();
    const inner = recording();
    const b = new RateLimitedBackend(inner, 1, clock); // 1 KiB/s
    await b.save({ type: 'data', name: 'a' }, new Uint8Array(1024));
    await b.load({ type: 'data', name: 'a' });
    await b.load({ type: 'data', name: 'a' });
    assert.equal(clock.t, 0);
    await b.save({ type: 'data', name: 'b' }, new Uint8Array(3072));
    assert.equal(clock.t, 3000);
    assert.deepEqual(inner.calls, ['save a', 'load a', 'load a', 'save b']);
  });

  it('a backend that paces its bodies gets them paid for slice by slice', async () => {
    const clock = fakeClock();
    const sent: number[] = [];
    const inner: Backend = {
      ...recording(),
      pacesUploads: true,
      save: async (_h, data, o) => {
        for await (const slice of pacedSlices(data, o!.pace!, o?.signal)) sent.push(clock.t, slice.byteLength);
      },
    };
    const b = new RateLimitedBackend(inner, 512, clock); // 512 KiB/s: 64 KiB slices, an eighth of a second each
    await b.save({ type: 'data', name: 'a' }, new Uint8Array(10 * 64 * 1024 + 10));
    // Eight slices from the full bucket (one second's worth), then one every 125 ms; the 10-byte tail after its 10 bytes' worth.
    const full = Array.from({ length: 8 }, () => [0, 65536]).flat();
    assert.deepEqual(sent, [...full, 125, 65536, 250, 65536, 250 + 10_000 / 524_288, 10]);
  });

  it('with two limits the lower holds', async () => {
    for (const [a, b] of [[1, 4], [4, 1]] as const) {
      const clock = fakeClock();
      const backend = new RateLimitedBackend(recording(), [uploadBucket(a, clock), uploadBucket(b, clock)]);
      assert.equal(backend.limitKiBps, 1);
      for (let i = 0; i < 10; i++) await backend.save({ type: 'data', name: `${i}` }, new Uint8Array(1024));
      assert.equal(clock.t, 9000, `limits ${a} and ${b} KiB/s`);
    }
  });

  it('a shared bucket limits all the backends that use it together', async () => {
    const clock = fakeClock();
    const shared = uploadBucket(1, clock);
    const one = new RateLimitedBackend(recording(), [shared]);
    const two = new RateLimitedBackend(recording(), [shared]);
    for (let i = 0; i < 5; i++) {
      await one.save({ type: 'data', name: `a${i}` }, new Uint8Array(1024));
      await two.save({ type: 'data', name: `b${i}` }, new Uint8Array(1024));
    }
    assert.equal(clock.t, 9000, '10 KiB through 1 KiB/s shared: 9 s after the first second\'s burst');
  });

  it('an aborted save sends nothing', async () => {
    const inner = recording();
    const b = new RateLimitedBackend(inner, 1, fakeClock());
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(b.save({ type: 'data', name: 'a' }, new Uint8Array(10), { signal: ac.signal }), (err: unknown) => isSidestashError(err, ErrorCodes.ABORTED));
    assert.deepEqual(inner.calls, []);
  });
});

describe('limitUploadKiBps', () => {
  const cases: [unknown, boolean][] = [[1, true], [256, true], [10_485_760, true], [0, false], [-5, false], [10_485_761, false], [1.5, false], ['256', false], [null, false], [Number.NaN, false]];
  for (const [v, ok] of cases) it(`${JSON.stringify(v)} is ${ok ? 'accepted' : 'refused'}`, () => assert.equal(limitUploadProblem(v) === undefined, ok));

});
