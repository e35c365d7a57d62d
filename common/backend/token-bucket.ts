// A token bucket over bytes, for the upload bandwidth limit (rate-limit.ts). Planned purely:
// reserveBytes() decides, on a given clock reading, how long a caller waits; TokenBucket
// applies it with a clock and a sleep that tests replace. A reservation larger than the
// bucket is allowed and puts it in debt (a pack is far larger than a second's worth), so the
// average rate over any long stretch is the limit, and concurrent callers queue behind the
// debt in the order they asked: all uploads of a backend share the one limit.
import { sleep } from './retry.ts';

export interface BucketState {
  /** Tokens (bytes) available; negative while in debt. */
  tokens: number;
  /** Clock reading the tokens were counted at. */
  atMs: number;
}

export interface BucketRate {
  bytesPerSecond: number;
  /** The most tokens the bucket holds (what an idle link may send at once). */
  capacityBytes: number;
}

/** Takes `bytes` at `nowMs`: the bucket after the reservation and how long the caller waits before sending. */
export function reserveBytes(state: BucketState, rate: BucketRate, bytes: number, nowMs: number): { state: BucketState; waitMs: number } {
  const elapsedMs = Math.max(0, nowMs - state.atMs);
  const refilled = Math.min(rate.capacityBytes, state.tokens + (elapsedMs * rate.bytesPerSecond) / 1000);
  const tokens = refilled - bytes;
  return { state: { tokens, atMs: Math.max(nowMs, state.atMs) }, waitMs: tokens < 0 ? (-tokens * 1000) / rate.bytesPerSecond : 0 };
}

/** Gives back a reservation that was not used (its caller was aborted while waiting). */
export function refundBytes(state: BucketState, rate: BucketRate, bytes: number): BucketState {
  return { tokens: Math.min(rate.capacityBytes, state.tokens + bytes), atMs: state.atMs };
}

export interface TokenBucketClock {
  nowMs(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const realClock: TokenBucketClock = { nowMs: () => performance.now(), sleep };

export class TokenBucket {
  readonly rate: BucketRate;
  readonly #clock: TokenBucketClock;
  #state: BucketState;

  /** Starts full: one second's worth (restic's limiter also allows a second's burst). */
  constructor(bytesPerSecond: number, clock: TokenBucketClock = realClock) {
    if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) throw new RangeError(`bytesPerSecond must be positive, not ${bytesPerSecond}`);
    this.rate = { bytesPerSecond, capacityBytes: bytesPerSecond };
    this.#clock = clock;
    this.#state = { tokens: bytesPerSecond, atMs: clock.nowMs() };
  }

  /** Waits until `bytes` may be sent; rejects with ABORTED (and returns the tokens) when the signal aborts first. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const { state, waitMs } = reserveBytes(this.#state, this.rate, bytes, this.#clock.nowMs());
    this.#state = state;
    if (waitMs <= 0) return;
    try {
      await this.#clock.sleep(waitMs, signal);
    } catch (err) {
      this.#state = refundBytes(this.#state, this.rate, bytes);
      throw err;
    }
  }
}
