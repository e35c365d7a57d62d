// KubeDB's AppBindings (appcatalog.appscode.com/v1alpha1, kmodules.xyz/custom-resources) as
// session targets in Kubernetes mode, read-only: sidestash never writes them (RBAC get only).
// - Which AppBinding a target.ref means (targetSource, pure): apiVersion sidestash.io/v1: ours
//   only; appcatalog.appscode.com/v1alpha1 or none: ours when a sidestash.io AppBinding of that
//   name exists, else KubeDB's; any other apiVersion is refused, naming spec.target.ref.apiVersion.
//   appcatalog.appscode.com/v1alpha1 cannot mean KubeDB's only: it is what every Stash
//   BackupConfiguration and RestoreSession says, and Stash's YAML applied with only the objects'
//   group changed keeps it in target.ref while its AppBinding became sidestash.io's (the sqlite
//   mode has always read it so). So a sidestash.io AppBinding wins a name both have.
// - What is taken over (fromKubeDbAppBinding, pure; an allow-list, as stash-spelling.ts reads
//   Stash's fields): clientConfig.service {name, namespace, port, scheme, path} or else
//   clientConfig.url, secret.name, type, version, and KubeDB's spec.tlsSecret.name as
//   tls.caSecretName (the Secret KubeDB writes holds ca.crt). Everything else (appRef,
//   parameters, secretTransforms, clientConfig.caBundle, ...) is ignored on read, never refused.
// - The type must be MariaDB or MySQL (KubeDB writes kubedb.com/mariadb, kubedb.com/mysql;
//   Stash's docs write mariadb/mysql); any other type refuses the session, naming spec.type.
// - Discovery: a KubeDB AppBinding is read with a GET of the object when a session starts (as
//   Secrets are), never cached, so a CRD installed after the controller started serves at once
//   and nothing needs re-checking. GET /apis/appcatalog.appscode.com/v1alpha1 is asked only to
//   tell "not served by this API server" from "no such AppBinding" in the error.
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { API_VERSION } from '../resources/types.ts';
import type { AppBindingSpec, Resource } from '../resources/types.ts';
import type { FieldError } from '../resources/validate.ts';
import type { KubeClient } from './kube-client.ts';
import type { KubeObject, ResourceType } from './resource-type.ts';

export const KUBEDB_APPBINDING_API_VERSION = 'appcatalog.appscode.com/v1alpha1';
export const KubeDbAppBindings: ResourceType = { group: 'appcatalog.appscode.com', version: 'v1alpha1', plural: 'appbindings', kind: 'AppBinding', namespaced: true };

export type TargetSource = 'sidestash' | 'kubedb';

/** Which AppBinding a target.ref names (see the header); `oursExists`: a sidestash.io AppBinding of that name exists. */
export function targetSource(ref: { apiVersion?: unknown }, oursExists: boolean): { source?: TargetSource; problem?: FieldError } {
  if (ref.apiVersion === API_VERSION) return { source: 'sidestash' };
  if (ref.apiVersion === undefined || ref.apiVersion === KUBEDB_APPBINDING_API_VERSION) return { source: oursExists ? 'sidestash' : 'kubedb' };
  return { problem: { field: 'spec.target.ref.apiVersion', message: `must be ${API_VERSION} or ${KUBEDB_APPBINDING_API_VERSION} (KubeDB's AppBinding), or left out; got ${JSON.stringify(ref.apiVersion)}` } };
}

/** MariaDB or MySQL, in KubeDB's spelling (kubedb.com/mariadb) or Stash's docs' (mariadb); absent is allowed (sidestash's own AppBindings need no type). */
export const DATABASE_TYPE_PATTERN = /^((kubedb\.com|[a-z0-9.-]+\.[a-z]{2,})\/)?(mariadb|mysql)$/i;

export function databaseTypeProblem(type: unknown): FieldError | undefined {
  if (type === undefined) return undefined;
  if (typeof type === 'string' && DATABASE_TYPE_PATTERN.test(type)) return undefined;
  return { field: 'spec.type', message: `sidestash backs up MariaDB and MySQL only (e.g. kubedb.com/mariadb); got ${JSON.stringify(type)}` };
}

type Loose = Record<string, unknown>;
const isObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);

/** KubeDB's object as our AppBinding document, through the allow-list (see the header). */
export function fromKubeDbAppBinding(object: KubeObject & { spec?: unknown }): Resource<AppBindingSpec> {
  const s = isObject(object.spec) ? object.spec : {};
  const cc = isObject(s.clientConfig) ? s.clientConfig : {};
  const clientConfig: Loose = {};
  if (isObject(cc.service)) {
    const service: Loose = {};
    for (const k of ['name', 'namespace', 'port'] as const) if (cc.service[k] !== undefined) service[k] = cc.service[k];
    // scheme and path are informational: taken over only in the forms our schema has.
    const scheme = typeof cc.service.scheme === 'string' ? cc.service.scheme.toLowerCase() : undefined;
    if (scheme === 'mysql' || scheme === 'mariadb' || scheme === 'tcp') service.scheme = scheme;
    if (cc.service.path === '/' || cc.service.path === '') service.path = cc.service.path;
    clientConfig.service = service;
  } else if (typeof cc.url === 'string') {
    // Only without a service: Stash prefers the service, and KubeDB's url may carry driver
    // parameters (?tls=custom) that sidestash's url allow-list refuses.
    clientConfig.url = cc.url;
  }
  const spec: Loose = { clientConfig };
  if (isObject(s.secret) && typeof s.secret.name === 'string') spec.secret = { name: s.secret.name };
  if (typeof s.type === 'string') spec.type = s.type;
  if (typeof s.version === 'string') spec.version = s.version;
  if (isObject(s.tlsSecret) && typeof s.tlsSecret.name === 'string') spec.tls = { caSecretName: s.tlsSecret.name };
  const m = object.metadata;
  return {
    apiVersion: API_VERSION, kind: 'AppBinding',
    metadata: {
      name: m.name ?? '', namespace: m.namespace ?? '',
      ...(m.uid !== undefined ? { uid: m.uid } : {}),
      ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
      ...(m.creationTimestamp !== undefined ? { creationTimestamp: m.creationTimestamp } : {}),
      ...(m.labels && Object.keys(m.labels).length > 0 ? { labels: { ...m.labels } } : {}),
    },
    spec: spec as unknown as AppBindingSpec,
  };
}

/** Whether the API server serves KubeDB's AppBindings (GET /apis/appcatalog.appscode.com/v1alpha1). */
export async function servesKubeDbAppBindings(client: KubeClient, signal?: AbortSignal): Promise<boolean> {
  try {
    const list = await client.request<{ resources?: { name?: string }[] }>('GET', `/apis/${KUBEDB_APPBINDING_API_VERSION}`, signal ? { signal } : {});
    return (list.resources ?? []).some((r) => r.name === 'appbindings');
  } catch (err) {
    if (isSidestashError(err, ErrorCodes.NOT_FOUND)) return false;
    throw err;
  }
}

/** KubeDB's AppBinding ns/name as ours, from the server; undefined when there is none (or the API server does not serve them). */
export async function readKubeDbAppBinding(client: KubeClient, namespace: string, name: string, signal?: AbortSignal): Promise<Resource<AppBindingSpec> | undefined> {
  try {
    return fromKubeDbAppBinding(await client.get<KubeObject & { spec?: unknown }>(KubeDbAppBindings, namespace, name, signal));
  } catch (err) {
    if (isSidestashError(err, ErrorCodes.NOT_FOUND)) return undefined;
    throw err;
  }
}
