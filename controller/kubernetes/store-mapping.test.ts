// The Kubernetes store's mapping (store-mapping.ts) and error rules (store-errors.ts), on tables.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import { kubeError } from './kube-errors.ts';
import { storeError } from './store-errors.ts';
import { statusFor } from '../api/http-util.ts';
import { CREATED_AT_ANNOTATION, creationTimeOf, resourceTypeOf, toNewObject, toResource, toStatusObject, toUpdatedObject } from './store-mapping.ts';
import type { StoredObject } from './store-mapping.ts';
import type { Resource } from '../resources/types.ts';

const NOW = '2026-03-01T10:00:00.123Z';

test('creation time: the annotation when it is a time, else the server’s, always in toISOString form', () => {
  const table: [Record<string, string> | undefined, string | undefined, string | undefined][] = [
    [{ [CREATED_AT_ANNOTATION]: '2026-03-01T10:00:00.456Z' }, '2026-03-01T10:00:00Z', '2026-03-01T10:00:00.456Z'],
    [undefined, '2026-03-01T10:00:00Z', '2026-03-01T10:00:00.000Z'],
    [{ [CREATED_AT_ANNOTATION]: 'not a time' }, '2026-03-01T10:00:01Z', '2026-03-01T10:00:01.000Z'],
    [{ other: 'x' }, undefined, undefined],
  ];
  for (const [annotations, creationTimestamp, want] of table) {
    assert.equal(creationTimeOf({ ...(annotations ? { annotations } : {}), ...(creationTimestamp ? { creationTimestamp } : {}) }), want, JSON.stringify(annotations));
  }
});

test('kinds: the five CRDs in sidestash.io/v1 and the core Secret; anything else is refused', () => {
  assert.deepEqual(['Repository', 'AppBinding', 'BackupConfiguration', 'BackupSession', 'RestoreSession', 'Secret'].map((k) => { const t = resourceTypeOf(k as never); return `${t.group}/${t.version}/${t.plural}`; }),
    ['sidestash.io/v1/repositories', 'sidestash.io/v1/appbindings', 'sidestash.io/v1/backupconfigurations', 'sidestash.io/v1/backupsessions', 'sidestash.io/v1/restoresessions', '/v1/secrets']);
  assert.throws(() => resourceTypeOf('Pod' as never), (e) => e instanceof SidestashError && e.code === ErrorCodes.INVALID_ARGUMENT);
});

test('a new object carries name, namespace, labels, spec and the created-at annotation; never uid, version or status', () => {
  const doc: Resource = { apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: { name: 's', namespace: 'ns', uid: 'forged', resourceVersion: '7', labels: { a: 'b' } }, spec: { x: 1 }, status: { phase: 'Pending' } };
  assert.deepEqual(toNewObject(doc, NOW), { metadata: { name: 's', namespace: 'ns', labels: { a: 'b' }, annotations: { [CREATED_AT_ANNOTATION]: NOW } }, spec: { x: 1 } });
  const dated = toNewObject({ ...doc, metadata: { name: 's', namespace: 'ns', creationTimestamp: '2026-01-01T00:00:00.5Z' } }, NOW);
  assert.equal(dated.metadata.annotations?.[CREATED_AT_ANNOTATION], '2026-01-01T00:00:00.500Z', 'the document’s creation time, normalised');
  const secret = toNewObject({ apiVersion: 'sidestash.io/v1', kind: 'Secret', metadata: { name: 'p', namespace: 'ns' }, spec: { stringData: { k: 'v' }, data: { d: 'dg==' }, other: 1 } }, NOW);
  assert.deepEqual(secret, { metadata: { name: 'p', namespace: 'ns', annotations: { [CREATED_AT_ANNOTATION]: NOW } }, type: 'Opaque', stringData: { k: 'v' }, data: { d: 'dg==' } });
});

test('an update starts from the stored object: annotations, finalizers, uid and status stay; labels and spec are the document’s', () => {
  const stored: StoredObject = {
    apiVersion: 'sidestash.io/v1', kind: 'Repository',
    metadata: { name: 'r', namespace: 'ns', uid: 'u1', resourceVersion: '5', labels: { old: '1' }, annotations: { [CREATED_AT_ANNOTATION]: NOW, owner: 'dba' }, finalizers: ['f'], creationTimestamp: '2026-03-01T10:00:00Z' },
    spec: { v: 1 }, status: { s: 1 },
  };
  const doc: Resource = { apiVersion: 'sidestash.io/v1', kind: 'Repository', metadata: { name: 'r', namespace: 'ns', uid: 'forged', labels: { new: '1' }, creationTimestamp: '2000-01-01T00:00:00Z' }, spec: { v: 2 }, status: { s: 9 } };
  assert.deepEqual(toUpdatedObject(stored, doc, '5'), {
    apiVersion: 'sidestash.io/v1', kind: 'Repository',
    metadata: { name: 'r', namespace: 'ns', uid: 'u1', resourceVersion: '5', labels: { new: '1' }, annotations: { [CREATED_AT_ANNOTATION]: NOW, owner: 'dba' }, finalizers: ['f'], creationTimestamp: '2026-03-01T10:00:00Z' },
    spec: { v: 2 },
  });
  assert.equal(toUpdatedObject(stored, { ...doc, metadata: { name: 'r', namespace: 'ns' } }, '5').metadata.labels, undefined, 'labels removed when the document has none');
  const secret: StoredObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'p', namespace: 'ns', resourceVersion: '3' }, type: 'Opaque', data: { old: 'b2xk' } };
  assert.deepEqual(toUpdatedObject(secret, { apiVersion: 'sidestash.io/v1', kind: 'Secret', metadata: { name: 'p', namespace: 'ns' }, spec: { stringData: { k: 'v' } } }, '3'),
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'p', namespace: 'ns', resourceVersion: '3' }, type: 'Opaque', stringData: { k: 'v' } }, 'the Secret’s values are replaced, not merged');
});

test('a status write carries the status and the version read only', () => {
  assert.deepEqual(toStatusObject({ apiVersion: 'x', kind: 'BackupSession', metadata: { name: 's', namespace: 'ns', labels: { a: 'b' } }, spec: { forged: true }, status: { phase: 'Running' } }, '9'),
    { metadata: { name: 's', namespace: 'ns', resourceVersion: '9' }, status: { phase: 'Running' } });
});

test('stored objects read back as documents: a Secret’s data is its spec, stringData never appears; a metadata-only Secret has an empty spec', () => {
  const secret: StoredObject = { metadata: { name: 'p', namespace: 'ns', uid: 'u', resourceVersion: '1', creationTimestamp: '2026-03-01T10:00:00Z', labels: {} }, type: 'Opaque', data: { k: 'dg==' } };
  assert.deepEqual(toResource('Secret', secret), { apiVersion: 'sidestash.io/v1', kind: 'Secret', metadata: { name: 'p', namespace: 'ns', uid: 'u', resourceVersion: '1', creationTimestamp: '2026-03-01T10:00:00.000Z' }, spec: { data: { k: 'dg==' } } });
  assert.deepEqual(toResource('Secret', { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: secret.metadata }).spec, {});
  assert.deepEqual(toResource('Repository', { metadata: { name: 'r', namespace: 'ns' }, spec: [] as never, status: 'x' as never }), { apiVersion: 'sidestash.io/v1', kind: 'Repository', metadata: { name: 'r', namespace: 'ns' }, spec: {} }, 'a non-object spec or status is not passed on');
});

test('errors: Conflict is a retryable CONFLICT, AlreadyExists is not; 422 lists field paths in details.errors; others pass unchanged', () => {
  const st = (code: number, reason: string, causes?: unknown[]) => ({ kind: 'Status', code, reason, message: reason, ...(causes ? { details: { causes } } : {}) });
  const conflict = storeError(kubeError('PUT x', 409, st(409, 'Conflict'))) as SidestashError;
  assert.deepEqual([conflict.code, conflict.retryable], [ErrorCodes.CONFLICT, true]);
  const exists = storeError(kubeError('POST x', 409, st(409, 'AlreadyExists'))) as SidestashError;
  assert.deepEqual([exists.code, exists.retryable], [ErrorCodes.CONFLICT, false]);
  const invalid = storeError(kubeError('POST x', 422, st(422, 'Invalid', [{ field: 'spec.backend', reason: 'FieldValueRequired', message: 'Required value' }, { reason: 'FieldValueInvalid' }]))) as SidestashError;
  assert.equal(invalid.code, ErrorCodes.VALIDATION_FAILED);
  assert.deepEqual(invalid.details.errors, [{ field: 'spec.backend', message: 'Required value' }, { field: '', message: 'FieldValueInvalid' }]);
  const gone = kubeError('GET x', 404, st(404, 'NotFound'));
  assert.equal(storeError(gone), gone);
  const plain = new Error('x');
  assert.equal(storeError(plain), plain);
  // The API server refusing the controller's own credentials is never the HTTP API caller's 401/403.
  for (const code of [401, 403]) {
    const denied = storeError(kubeError('GET x', code, st(code, code === 401 ? 'Unauthorized' : 'Forbidden'))) as SidestashError;
    assert.deepEqual([denied.code, denied.retryable, denied.details.kubeStatus], [ErrorCodes.KUBE_DENIED, false, code]);
    assert.equal(statusFor(denied), 502);
    assert.match(denied.message, /ServiceAccount and RBAC/);
    assert.doesNotMatch(denied.message, /secretWrites/, 'the general advice names no Secret setting');
    // A refused Secret write says what to do: kubectl, or the chart's kubernetes.secretWrites.
    const secret = storeError(kubeError('POST x', code, st(code, 'Forbidden')), { kind: 'Secret' }) as SidestashError;
    assert.deepEqual([secret.code, secret.retryable, statusFor(secret)], [ErrorCodes.KUBE_DENIED, false, 502]);
    assert.match(secret.message, /create the Secret with kubectl.*kubernetes\.secretWrites: true/);
    // Other kinds' writes keep the general advice.
    const session = storeError(kubeError('POST x', code, st(code, 'Forbidden')), { kind: 'BackupSession' }) as SidestashError;
    assert.match(session.message, /ServiceAccount and RBAC/);
    assert.doesNotMatch(session.message, /secretWrites/);
  }
  // The store's own refusal (a namespace it does not serve) stays FORBIDDEN.
  const own = new SidestashError(ErrorCodes.FORBIDDEN, 'namespace x is not served');
  assert.equal(storeError(own), own);
});
