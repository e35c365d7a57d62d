// An API resource (group, version, plural) and the REST paths of its collection, objects and
// subresources, as the API server serves them.
import { ErrorCodes, SidestashError } from '../../common/errors.ts';

export interface ResourceType {
  /** '' for the core group (/api/v1). */
  group: string;
  version: string;
  /** Lower-case plural, e.g. configmaps. */
  plural: string;
  kind: string;
  namespaced: boolean;
}

/** metav1.ObjectMeta, the part every object has that the client reads. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: unknown[];
  finalizers?: string[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export interface KubeList<T extends KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export const ConfigMaps: ResourceType = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
export const Secrets: ResourceType = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true };
export const Pods: ResourceType = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true };
export const CoreEvents: ResourceType = { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true };
export const Leases: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true };
export const TokenReviews: ResourceType = { group: 'authentication.k8s.io', version: 'v1', plural: 'tokenreviews', kind: 'TokenReview', namespaced: false };

/** "v1" or "group/version", as in an object's apiVersion. */
export function apiVersionOf(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

// DNS-1123 subdomains (names) and labels (namespaces): anything else never reaches a URL.
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function isValidName(name: string): boolean {
  return NAME.test(name);
}

export function isValidNamespace(namespace: string): boolean {
  return NAMESPACE.test(namespace);
}

/**
 * The path of a collection (name undefined) or object, e.g. /api/v1/namespaces/ns/configmaps/x
 * or /apis/coordination.k8s.io/v1/namespaces/ns/leases/x/status. A namespaced type without a
 * namespace is the collection across all namespaces. Throws INVALID_ARGUMENT on a name that is not a DNS name.
 */
export function resourcePath(type: ResourceType, namespace: string | undefined, name?: string, subresource?: 'status'): string {
  const base = type.group === '' ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  if (namespace !== undefined && !isValidNamespace(namespace)) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `not a namespace: ${JSON.stringify(namespace)}`);
  if (name !== undefined && !isValidName(name)) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `not a ${type.kind} name: ${JSON.stringify(name)}`);
  const ns = type.namespaced && namespace !== undefined ? `/namespaces/${namespace}` : '';
  return `${base}${ns}/${type.plural}${name !== undefined ? `/${name}` : ''}${subresource ? `/${subresource}` : ''}`;
}
