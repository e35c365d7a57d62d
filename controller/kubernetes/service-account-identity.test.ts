import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes } from '../../common/errors.ts';
import { Buffer } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { KubeClient } from './kube-client.ts';
import { ServiceAccountAuthenticator, decideAgentIdentity } from './service-account-identity.ts';
import { FAILED_BURST, FAILED_REFILL_MS } from './token-review-guard.ts';
import type { PodLike, TokenReviewStatus } from './service-account-identity.ts';

const review = (over: Partial<TokenReviewStatus> = {}, extra: Record<string, string[]> = {}): TokenReviewStatus => ({
  authenticated: true, audiences: ['sidestash'],
  user: { username: 'system:serviceaccount:shop:default', extra: { 'authentication.kubernetes.io/pod-name': ['db-0'], 'authentication.kubernetes.io/pod-uid': ['u-1'], ...extra } },
  ...over,
});
const pod = (over: Partial<PodLike['metadata']> = {}, sa?: string): PodLike => ({
  metadata: { name: 'db-0', namespace: 'shop', uid: 'u-1', annotations: { 'sidestash.io/target': 'shop-db, shop-db2' }, ...over },
  ...(sa ? { spec: { serviceAccountName: sa } } : {}),
});

test('the identity comes from the review and the pod, never from the agent', () => {
  assert.deepEqual(decideAgentIdentity(review(), pod({}, 'default')), { ok: true, identity: { namespace: 'shop', serviceAccount: 'default', pod: 'db-0', podUid: 'u-1', targets: ['shop-db', 'shop-db2'] } });
});

test('each refusal, and its code', () => {
  const table: [string, TokenReviewStatus, PodLike | undefined, string, RegExp][] = [
    ['not authenticated', review({ authenticated: false, error: 'token expired' }), pod(), ErrorCodes.UNAUTHORIZED, /not accepted: token expired/],
    ['another audience', review({ audiences: ['https://kubernetes.default.svc'] }), pod(), ErrorCodes.UNAUTHORIZED, /audience "sidestash"/],
    ['a user, not a ServiceAccount', review({ user: { username: 'alice', extra: review().user!.extra! } }), pod(), ErrorCodes.UNAUTHORIZED, /not a ServiceAccount token/],
    ['not bound to a pod', review({ user: { username: 'system:serviceaccount:shop:default' } }), pod(), ErrorCodes.UNAUTHORIZED, /not bound to a pod/],
    ['two pod names', review({}, { 'authentication.kubernetes.io/pod-name': ['db-0', 'db-1'] }), pod(), ErrorCodes.UNAUTHORIZED, /not bound to a pod/],
    ['the pod is gone', review(), undefined, ErrorCodes.UNAUTHORIZED, /does not exist/],
    ['a new pod under the same name', review(), pod({ uid: 'u-2' }), ErrorCodes.UNAUTHORIZED, /not the pod the token was issued to/],
    ['a pod of another namespace', review(), pod({ namespace: 'crm' }), ErrorCodes.UNAUTHORIZED, /not the pod/],
    ['the pod is being deleted', review(), pod({ deletionTimestamp: '2026-12-01T10:00:00Z' }), ErrorCodes.UNAUTHORIZED, /being deleted/],
    ['the pod runs as another ServiceAccount', review(), pod({}, 'backup'), ErrorCodes.UNAUTHORIZED, /does not run as ServiceAccount default/],
    ['no annotation', review(), pod({ annotations: {} }), ErrorCodes.FORBIDDEN, /no sidestash.io\/target annotation/],
    ['an empty annotation', review(), pod({ annotations: { 'sidestash.io/target': ' , ' } }), ErrorCodes.FORBIDDEN, /no sidestash.io\/target/],
    ['an annotation naming another namespace', review(), pod({ annotations: { 'sidestash.io/target': 'crm/db' } }), ErrorCodes.FORBIDDEN, /"crm\/db" is not an AppBinding name/],
  ];
  for (const [name, r, p, code, reason] of table) {
    const d = decideAgentIdentity(r, p);
    assert.equal(d.ok, false, name);
    if (d.ok) continue;
    assert.equal(d.code, code, name);
    assert.match(d.reason, reason, name);
  }
});

test('authenticate sends no TokenReview for a bearer that is not JWS-shaped, nor for an address past its failed-verification limit', async () => {
  let reviews = 0;
  const client = { request: async () => { reviews++; return { status: { authenticated: false, error: 'invalid bearer token' } }; } } as unknown as KubeClient;
  let nowMs = 0;
  const quiet = { debug() {}, info() {}, warn() {}, error() {}, child() { return quiet; } };
  const auth = new ServiceAccountAuthenticator(client, { now: () => nowMs, log: quiet });
  const req = (token: string, address: string) => ({ headers: { authorization: `Bearer ${token}` }, socket: { remoteAddress: address } }) as unknown as IncomingMessage;
  for (let i = 0; i < 50; i++) assert.equal(await auth.authenticate(req(`garbage-${i}`, '203.0.113.9')), undefined);
  assert.equal(reviews, 0, 'garbage costs no TokenReview');
  const b64 = (s: string) => Buffer.from(s).toString('base64url');
  const forged = `${b64('{"alg":"RS256"}')}.${b64('{"sub":"x"}')}.c2ln`;
  for (let i = 0; i < 50; i++) assert.equal(await auth.authenticate(req(forged, '203.0.113.9')), undefined);
  assert.equal(reviews, FAILED_BURST, 'the address is refused without a TokenReview once it has failed FAILED_BURST times');
  assert.equal(await auth.authenticate(req(forged, '203.0.113.10')), undefined);
  assert.equal(reviews, FAILED_BURST + 1, 'another address is still verified');
  nowMs += FAILED_REFILL_MS;
  await auth.authenticate(req(forged, '203.0.113.9'));
  assert.equal(reviews, FAILED_BURST + 2, 'and the first again after the refill period');
});
