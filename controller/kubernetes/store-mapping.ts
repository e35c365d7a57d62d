// The resource store's documents (controller/resources/types.ts) as Kubernetes objects and
// back, pure: the CRDs sidestash.io/v1 for Repository, AppBinding, BackupConfiguration,
// BackupSession and RestoreSession, and the core v1 Secret for Secret (our spec.data and
// spec.stringData are the Secret's data and stringData; type Opaque).
// What is kept where:
// - name, namespace, labels, uid and resourceVersion are the object's metadata.
// - creationTimestamp: Kubernetes sets it and keeps whole seconds, while the controller orders
//   its claim queue by creation (controller/store/resource-order.ts) to the millisecond. The
//   store writes the creation time it means (the document's, or now) into the annotation
//   sidestash.io/created-at on create, and reads it back as metadata.creationTimestamp; an object
//   without it (made with kubectl) has the server's time. Nobody but the store writes it: an
//   update keeps the stored annotation, whatever the document says.
// - everything else in the stored metadata (annotations, finalizers, ownerReferences) is the
//   user's or Kubernetes': an update starts from the stored object and replaces only labels and
//   spec (or data), so that it is kept.
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import { API_VERSION } from '../resources/types.ts';
import type { Kind, Resource } from '../resources/types.ts';
import { Secrets } from './resource-type.ts';
import type { KubeObject, ObjectMeta, ResourceType } from './resource-type.ts';

export const CREATED_AT_ANNOTATION = 'sidestash.io/created-at';

export const CRD_TYPES: Record<Exclude<Kind, 'Secret'>, ResourceType> = {
  Repository: { group: 'sidestash.io', version: 'v1', plural: 'repositories', kind: 'Repository', namespaced: true },
  AppBinding: { group: 'sidestash.io', version: 'v1', plural: 'appbindings', kind: 'AppBinding', namespaced: true },
  BackupConfiguration: { group: 'sidestash.io', version: 'v1', plural: 'backupconfigurations', kind: 'BackupConfiguration', namespaced: true },
  BackupSession: { group: 'sidestash.io', version: 'v1', plural: 'backupsessions', kind: 'BackupSession', namespaced: true },
  RestoreSession: { group: 'sidestash.io', version: 'v1', plural: 'restoresessions', kind: 'RestoreSession', namespaced: true },
};

export function resourceTypeOf(kind: Kind): ResourceType {
  if (kind === 'Secret') return Secrets;
  const type = CRD_TYPES[kind];
  if (!type) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `not a kind this store keeps: ${JSON.stringify(kind)}`);
  return type;
}

/** A CRD object or a core Secret, as the API server sends it. */
export interface StoredObject extends KubeObject {
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

type AnyResource = Resource<unknown, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The creation time the store reads: the annotation when it is a time, else the server's; always as Date.toISOString() writes it. */
export function creationTimeOf(meta: ObjectMeta): string | undefined {
  for (const t of [meta.annotations?.[CREATED_AT_ANNOTATION], meta.creationTimestamp]) {
    if (t !== undefined && Number.isFinite(Date.parse(t))) return new Date(Date.parse(t)).toISOString();
  }
  return undefined;
}

/** The stored object as our document. */
export function toResource(kind: Kind, object: StoredObject): AnyResource {
  const m = object.metadata;
  const createdAt = creationTimeOf(m);
  const metadata = {
    name: m.name ?? '',
    namespace: m.namespace ?? '',
    ...(m.uid !== undefined ? { uid: m.uid } : {}),
    ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
    ...(createdAt !== undefined ? { creationTimestamp: createdAt } : {}),
    ...(m.labels && Object.keys(m.labels).length > 0 ? { labels: { ...m.labels } } : {}),
  };
  if (kind === 'Secret') {
    // The server never returns stringData: it is merged into data (base64) on write.
    return { apiVersion: API_VERSION, kind, metadata, spec: object.data ? { data: { ...object.data } } : {} };
  }
  return {
    apiVersion: API_VERSION, kind, metadata,
    spec: isObject(object.spec) ? object.spec : {},
    ...(isObject(object.status) ? { status: object.status } : {}),
  };
}

function secretPayload(spec: unknown): Pick<StoredObject, 'data' | 'stringData'> {
  const s = isObject(spec) ? spec : {};
  return {
    ...(isObject(s.data) ? { data: s.data as Record<string, string> } : {}),
    ...(isObject(s.stringData) ? { stringData: s.stringData as Record<string, string> } : {}),
  };
}

/**
 * The object a create sends: name, namespace, labels, the created-at annotation (the document's
 * creationTimestamp when it is a time, else `nowIso`) and spec; never uid, resourceVersion or
 * status (the server ignores a status on create when the status subresource is on).
 */
export function toNewObject(resource: AnyResource, nowIso: string): StoredObject {
  const given = resource.metadata.creationTimestamp;
  const createdAt = given !== undefined && Number.isFinite(Date.parse(given)) ? new Date(Date.parse(given)).toISOString() : nowIso;
  const metadata: ObjectMeta = {
    name: resource.metadata.name,
    namespace: resource.metadata.namespace,
    ...(resource.metadata.labels ? { labels: { ...resource.metadata.labels } } : {}),
    annotations: { [CREATED_AT_ANNOTATION]: createdAt },
  };
  if (resource.kind === 'Secret') return { metadata, type: 'Opaque', ...secretPayload(resource.spec) };
  return { metadata, spec: (resource.spec ?? {}) as Record<string, unknown> };
}

/**
 * The object an update sends: the stored object with the document's labels and spec (or data
 * and stringData) and the version the caller read; uid, creation time, annotations, finalizers
 * and status stay as stored (the server keeps the status on a write of the main resource).
 */
export function toUpdatedObject(stored: StoredObject, resource: AnyResource, ifVersion: string): StoredObject {
  const { labels: _labels, managedFields: _managed, ...keptMeta } = stored.metadata as ObjectMeta & { managedFields?: unknown };
  const metadata: ObjectMeta = {
    ...keptMeta,
    resourceVersion: ifVersion,
    ...(resource.metadata.labels ? { labels: { ...resource.metadata.labels } } : {}),
  };
  if (resource.kind === 'Secret') {
    const { data: _data, stringData: _stringData, ...rest } = stored;
    return { ...rest, metadata, ...secretPayload(resource.spec) };
  }
  const { status: _status, ...rest } = stored;
  return { ...rest, metadata, spec: (resource.spec ?? {}) as Record<string, unknown> };
}

/** The body of a /status write: only the status counts there; the version is the precondition. */
export function toStatusObject(resource: AnyResource, ifVersion: string): StoredObject {
  return {
    metadata: { name: resource.metadata.name, namespace: resource.metadata.namespace, resourceVersion: ifVersion },
    status: (resource.status ?? {}) as Record<string, unknown>,
  };
}

/** list()'s order: namespace, then name (byte order, as sqlite's ORDER BY). */
export function byNamespaceThenName(a: AnyResource, b: AnyResource): number {
  const [x, y] = [a.metadata, b.metadata];
  return x.namespace < y.namespace ? -1 : x.namespace > y.namespace ? 1 : x.name < y.name ? -1 : x.name > y.name ? 1 : 0;
}
