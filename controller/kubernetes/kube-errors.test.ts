import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes } from '../../common/errors.ts';
import { statusFor } from '../api/http-util.ts';
import { kubeError, kubeNetworkError } from './kube-errors.ts';

const status = (code: number, reason: string, extra: Record<string, unknown> = {}) => ({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `m ${reason}`, reason, code, ...extra });

test('HTTP statuses from the API server map onto stable codes with retryable set right', () => {
  const table: [number, unknown, string, boolean][] = [
    [404, status(404, 'NotFound'), ErrorCodes.NOT_FOUND, false],
    [409, status(409, 'Conflict'), ErrorCodes.CONFLICT, false],
    [409, status(409, 'AlreadyExists'), ErrorCodes.CONFLICT, false],
    [410, status(410, 'Expired'), ErrorCodes.RESOURCE_EXPIRED, false],
    [401, status(401, 'Unauthorized'), ErrorCodes.UNAUTHORIZED, false],
    [403, status(403, 'Forbidden'), ErrorCodes.FORBIDDEN, false],
    [422, status(422, 'Invalid'), ErrorCodes.VALIDATION_FAILED, false],
    [400, status(400, 'BadRequest'), ErrorCodes.INVALID_ARGUMENT, false],
    [429, status(429, 'TooManyRequests'), ErrorCodes.KUBE_UNAVAILABLE, true],
    [500, 'plain text from a proxy', ErrorCodes.KUBE_UNAVAILABLE, true],
    [503, status(503, 'ServiceUnavailable'), ErrorCodes.KUBE_UNAVAILABLE, true],
  ];
  for (const [http, body, code, retryable] of table) {
    const err = kubeError('GET /x', http, body);
    assert.equal(err.code, code, `${http}`);
    assert.equal(err.retryable, retryable, `${http}`);
    assert.equal(err.details.kubeStatus, http);
  }
  assert.equal(kubeError('x', 409, status(409, 'AlreadyExists')).details.reason, 'AlreadyExists');
});

test('422: the causes keep their field paths; the message names them', () => {
  const err = kubeError('POST leases', 422, status(422, 'Invalid', { message: 'Lease "x" is invalid', details: { causes: [{ reason: 'FieldValueInvalid', message: 'must be greater than 0', field: 'spec.leaseDurationSeconds' }, { reason: 'x', field: 7 }] } }));
  assert.deepEqual(err.details.causes, [{ field: 'spec.leaseDurationSeconds', reason: 'FieldValueInvalid', message: 'must be greater than 0' }, { reason: 'x' }]);
  assert.match(err.message, /spec\.leaseDurationSeconds: must be greater than 0/);
});

test('Retry-After (Status details or header) reaches the retry layer only for retryable answers', () => {
  assert.equal(kubeError('x', 429, status(429, 'TooManyRequests', { details: { retryAfterSeconds: 3 } })).details.retryAfterMs, 3000);
  assert.equal(kubeError('x', 503, 'busy', '2').details.retryAfterMs, 2000);
  assert.equal(kubeError('x', 409, status(409, 'Conflict', { details: { retryAfterSeconds: 3 } })).details.retryAfterMs, undefined);
  assert.equal(kubeError('x', 503, 'busy', 'soon').details.retryAfterMs, undefined);
});

test('no answer: retryable, except a certificate the CA does not vouch for', () => {
  assert.equal(kubeNetworkError('x', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).retryable, true);
  assert.equal(kubeNetworkError('x', Object.assign(new Error('self-signed'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })).retryable, false);
  assert.equal(kubeNetworkError('x', new Error('other')).code, ErrorCodes.KUBE_UNAVAILABLE);
});

test("the API server's status is not the status the HTTP API answers with (details.status would be)", () => {
  // controller/api/http-util.ts statusFor answers with details.status when set: a 401 of the
  // controller's own credentials must not become the CLI user's 401.
  assert.equal(kubeError('x', 401, status(401, 'Unauthorized')).details.status, undefined);
  // An API server that does not answer is the HTTP API's 503 (retryable), a stale write its 409.
  assert.equal(statusFor(kubeError('x', 503, 'busy')), 503);
  assert.equal(statusFor(kubeNetworkError('x', new Error('refused'))), 503);
  assert.equal(statusFor(kubeError('x', 409, status(409, 'Conflict'))), 409);
});
