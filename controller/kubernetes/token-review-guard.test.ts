// token-review-guard.ts: what is refused before a TokenReview is sent.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import { FAILED_BURST, FAILED_REFILL_MS, FailedVerifications, MAX_TOKEN_CHARS, isJwtShaped } from './token-review-guard.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64url');
const jwt = `${b64('{"alg":"RS256","kid":"k"}')}.${b64('{"sub":"system:serviceaccount:shop:default"}')}.c2ln`;

test('only a JWS-shaped bearer is worth a TokenReview', () => {
  const table: [string, string, boolean][] = [
    ['a ServiceAccount-shaped token', jwt, true],
    ['garbage', 'garbage', false],
    ['an opaque bootstrap token', 'sst_0123456789abcdef', false],
    ['two parts', `${b64('{"alg":"RS256"}')}.abc`, false],
    ['four parts', `${jwt}.x`, false],
    ['an empty part', `${b64('{"alg":"RS256"}')}..sig`, false],
    ['not base64url', `${b64('{"alg":"RS256"}')}.a+b/c.sig`, false],
    ['a header that is not JSON', `${b64('not json')}.abc.sig`, false],
    ['a header without alg', `${b64('{"typ":"JWT"}')}.abc.sig`, false],
    ['too long', `${b64('{"alg":"RS256"}')}.${'a'.repeat(MAX_TOKEN_CHARS)}.sig`, false],
  ];
  for (const [name, token, want] of table) assert.equal(isJwtShaped(token), want, name);
});

test('an address gets FAILED_BURST failed verifications, then one per refill period; others are not affected; memory is bounded', () => {
  let nowMs = 1_000_000;
  const f = new FailedVerifications(() => nowMs);
  for (let i = 0; i < FAILED_BURST; i++) {
    assert.equal(f.allows('10.0.0.1'), true, `failure ${i + 1}`);
    f.failed('10.0.0.1');
  }
  assert.equal(f.allows('10.0.0.1'), false);
  assert.equal(f.allows('10.0.0.2'), true, 'another address');
  nowMs += FAILED_REFILL_MS - 1;
  assert.equal(f.allows('10.0.0.1'), false);
  nowMs += 1;
  assert.equal(f.allows('10.0.0.1'), true, 'one more after the refill period');
  f.failed('10.0.0.1');
  assert.equal(f.allows('10.0.0.1'), false);
  for (let i = 0; i < 20_000; i++) f.failed(`a${i}`);
  assert.equal(f.trackedAddresses, 10_000);
});
