// The upload limit at the low end of its range (1 KiB/s and up, restic's --limit-upload on a
// thin link): a paced body must keep flowing. S3 closes a request whose connection is silent
// for about 20 s (RequestTimeout) and the backends fail one silent for their request timeout;
// a body that pauses longer between its slices fails on every try and never uploads. And the
// limit holds over a minute (issue 15: within 10%). Virtual time: a clock that moves to the next
// sleeper's wake-up once every upload waits, so 4 uploads at 1 KiB/s take no real time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { abortError } from '../errors.ts';
import type { Backend, FileHandle, SaveOptions } from './backend.ts';
import { pacedSlices } from './paced-body.ts';
import { RateLimitedBackend } from './rate-limit.ts';
import type { TokenBucketClock } from './token-bucket.ts';

/** Longest silence allowed between two slices of one body (well under S3's ~20 s). */
const MAX_GAP_MS = 5_000;

class VirtualClock implements TokenBucketClock {
  t = 0;
  readonly #sleepers: { atMs: number; wake: () => void }[] = [];
  nowMs = (): number => this.t;
  sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve) => this.#sleepers.push({ atMs: this.t + ms, wake: resolve }));
  };

  /** Runs until `work` settles: whenever everyone sleeps, wakes the earliest sleeper. */
  async run<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const result = work.finally(() => (done = true));
    while (!done) {
      for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
      if (done) break;
      this.#sleepers.sort((a, b) => a.atMs - b.atMs);
      const next = this.#sleepers.shift();
      assert.ok(next, 'nobody sleeps and the work has not ended');
      this.t = Math.max(this.t, next.atMs);
      next.wake();
    }
    return result;
  }
}

/** A network backend that sends each body as the pacer allows, recording when each slice went out. */
function wire(clock: VirtualClock): { backend: Backend; sent: { upload: string; atMs: number; bytes: number }[] } {
  const sent: { upload: string; atMs: number; bytes: number }[] = [];
  const backend: Backend = {
    location: 'wire:',
    pacesUploads: true,
    create: async () => {},
    save: async (h: FileHandle, data: Uint8Array, options: SaveOptions = {}) => {
      assert.ok(options.pace, 'a paced save');
      for await (const slice of pacedSlices(data, options.pace, options.signal)) sent.push({ upload: h.name, atMs: clock.t, bytes: slice.byteLength });
    },
    load: async () => new Uint8Array(0),
    stat: async (h) => ({ name: h.name, sizeBytes: 0 }),
    list: async function* () {},
    remove: async () => {},
    close: async () => {},
  };
  return { backend, sent };
}

describe('paced uploads at low limits', () => {
  for (const limitKiBps of [1, 4, 16]) {
    it(`${limitKiBps} KiB/s, 4 uploads at once: no body is silent for more than ${MAX_GAP_MS / 1000} s, and each minute carries the limit within 10%`, async () => {
      const clock = new VirtualClock();
      const { backend, sent } = wire(clock);
      const limited = new RateLimitedBackend(backend, limitKiBps, clock);
      const bodyBytes = limitKiBps * 1024 * 60; // four minutes of the limit in all
      await clock.run(Promise.all(['a', 'b', 'c', 'd'].map((name) => limited.save({ type: 'data', name }, new Uint8Array(bodyBytes)))));
      for (const name of ['a', 'b', 'c', 'd']) {
        const mine = sent.filter((s) => s.upload === name);
        assert.equal(mine.reduce((n, s) => n + s.bytes, 0), bodyBytes);
        let lastMs = 0;
        for (const s of mine) {
          assert.ok(s.atMs - lastMs <= MAX_GAP_MS, `upload ${name} silent for ${((s.atMs - lastMs) / 1000).toFixed(1)} s before a slice of ${s.bytes} B`);
          lastMs = s.atMs;
        }
      }
      // Every minute from the start: the limit's worth, within 10% (plus the first second's burst in the first).
      const totalMs = sent.at(-1)!.atMs;
      for (let fromMs = 0; fromMs + 60_000 <= totalMs; fromMs += 1_000) {
        const bytes = sent.filter((s) => s.atMs >= fromMs && s.atMs < fromMs + 60_000).reduce((n, s) => n + s.bytes, 0);
        const allowed = limitKiBps * 1024 * 60 * 1.1 + (fromMs === 0 ? limitKiBps * 1024 : 0);
        assert.ok(bytes <= allowed, `${bytes} B in the minute from ${fromMs / 1000} s, over ${Math.round(allowed)} B`);
      }
    });
  }
});

describe('lock files under the upload limit', () => {
  it('a lock refresh is not queued behind the packs a local directory pays for up front', async () => {
    const clock = new VirtualClock();
    const stored: { name: string; atMs: number }[] = [];
    const local: Backend = {
      location: 'local:/repo',
      create: async () => {},
      save: async (h: FileHandle) => void stored.push({ name: `${h.type}/${h.name}`, atMs: clock.t }),
      load: async () => new Uint8Array(0),
      stat: async (h) => ({ name: h.name, sizeBytes: 0 }),
      list: async function* () {},
      remove: async () => {},
      close: async () => {},
    };
    // 4 KiB/s: an 8 MiB pack is 34 minutes of the limit, paid before it is written. The lock
    // must be refreshed every 5 minutes and is lost after 22.5 (common/repository/lock.ts).
    const limited = new RateLimitedBackend(local, 4, clock);
    await clock.run(Promise.all([
      limited.save({ type: 'data', name: 'pack' }, new Uint8Array(8 * 1024 * 1024)),
      (async () => {
        await clock.sleep(60_000); // a minute into the pack's wait, the backup refreshes its lock
        await limited.save({ type: 'locks', name: 'lock' }, new Uint8Array(200));
      })(),
    ]));
    const lock = stored.find((s) => s.name === 'locks/lock');
    assert.ok(lock && lock.atMs <= 61_000, `the lock was stored after ${((lock?.atMs ?? 0) / 60_000).toFixed(1)} minutes`);
  });
});
