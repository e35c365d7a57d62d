import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_MAX_RETRY_AFTER_MS, outsideRetryWindow, parseRetryAfterMs, retryDelayMs } from './retry.ts';
import type { RetryPolicy } from './retry.ts';

const now = Date.parse('2026-03-29T01:00:00Z');

describe('Retry-After', () => {
  const cases: [string | string[] | undefined, number | undefined][] = [
    [undefined, undefined],
    ['', undefined],
    ['0', 0],
    ['1', 1000],
    [' 120 ', 120_000],
    [['3', '9'], 3000],
    ['Sun, 29 Mar 2026 01:00:05 GMT', 5000],
    ['Sun, 29 Mar 2026 00:59:00 GMT', 0],
    ['-1', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['9999999999', undefined],
    ['2026-03-29T01:00:05Z', undefined],
  ];
  for (const [header, want] of cases) {
    it(`${JSON.stringify(header)} -> ${want}`, () => assert.equal(parseRetryAfterMs(header, now), want));
  }
});

describe('retry delay', () => {
  const policy: RetryPolicy = { attempts: 6, baseDelayMs: 200, maxDelayMs: 10_000 };
  const cases: [string, number, RetryPolicy, number | undefined, number, number][] = [
    ['first backoff, no jitter', 1, policy, undefined, 1, 200],
    ['first backoff, most jitter', 1, policy, undefined, 0, 100],
    ['backoff doubles', 3, policy, undefined, 1, 800],
    ['backoff is capped', 10, policy, undefined, 1, 10_000],
    ['Retry-After longer than the backoff', 1, policy, 5000, 1, 5000],
    ['Retry-After shorter than the backoff', 4, policy, 100, 1, 1600],
    ['Retry-After 0', 1, policy, 0, 1, 200],
    ['Retry-After capped by default', 1, policy, 3_600_000, 1, DEFAULT_MAX_RETRY_AFTER_MS],
    ['Retry-After capped by the policy', 1, { ...policy, maxRetryAfterMs: 2000 }, 60_000, 1, 2000],
  ];
  for (const [name, attempt, p, retryAfterMs, random, want] of cases) {
    it(name, () => assert.equal(retryDelayMs(attempt, p, retryAfterMs, random), want));
  }
});

describe('retry window (maxTotalMs)', () => {
  const windowed: RetryPolicy = { attempts: Number.POSITIVE_INFINITY, baseDelayMs: 200, maxDelayMs: 30_000, maxTotalMs: 60_000 };
  const cases: [string, RetryPolicy, number, number, boolean][] = [
    ['no window: attempts alone bound the tries', { attempts: 6, baseDelayMs: 200, maxDelayMs: 10_000 }, 10 * 3_600_000, 30_000, false],
    ['inside the window', windowed, 10_000, 30_000, false],
    ['a retry that starts exactly at the end', windowed, 30_000, 30_000, false],
    ['a retry that would start after the end', windowed, 30_001, 30_000, true],
    ['already past the end', windowed, 61_000, 0, true],
  ];
  for (const [name, policy, failingForMs, delayMs, outside] of cases) {
    it(name, () => assert.equal(outsideRetryWindow(policy, failingForMs, delayMs), outside));
  }
});
