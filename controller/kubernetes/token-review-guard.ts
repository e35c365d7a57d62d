// What stands between an unauthenticated request and a TokenReview (review finding 9): without
// it, any client that reaches the API port makes the controller send the API server one
// TokenReview per bearer it makes up.
// - isJwtShaped: a ServiceAccount token is a JWS (three base64url parts, a JSON header naming
//   its alg, at most MAX_TOKEN_CHARS); anything else is refused without asking the API server.
// - FailedVerifications: per client address, a token bucket of failed verifications (burst
//   FAILED_BURST, one more every FAILED_REFILL_MS); an address with an empty bucket is refused
//   without a TokenReview until it refills. Successes cost nothing. At most MAX_ADDRESSES are
//   tracked (the least recently failing dropped first). The clock is injected.
import { Buffer } from 'node:buffer';

export const MAX_TOKEN_CHARS = 16_384;
export const FAILED_BURST = 10;
export const FAILED_REFILL_MS = 6_000;
export const MAX_ADDRESSES = 10_000;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function isJwtShaped(token: string): boolean {
  if (token.length > MAX_TOKEN_CHARS) return false;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => p.length > 0 && BASE64URL.test(p))) return false;
  try {
    const header: unknown = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

interface Bucket {
  tokens: number;
  atMs: number;
}

export class FailedVerifications {
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #level(address: string, nowMs: number): number {
    const b = this.#buckets.get(address);
    if (!b) return FAILED_BURST;
    return Math.min(FAILED_BURST, b.tokens + (nowMs - b.atMs) / FAILED_REFILL_MS);
  }

  /** Whether `address` may have its token verified now. */
  allows(address: string): boolean {
    return this.#level(address, this.#now()) >= 1;
  }

  /** A verification from `address` failed. */
  failed(address: string): void {
    const nowMs = this.#now();
    const tokens = Math.max(0, this.#level(address, nowMs) - 1);
    this.#buckets.delete(address);
    this.#buckets.set(address, { tokens, atMs: nowMs });
    if (this.#buckets.size > MAX_ADDRESSES) this.#buckets.delete(this.#buckets.keys().next().value!);
  }

  get trackedAddresses(): number {
    return this.#buckets.size;
  }
}
