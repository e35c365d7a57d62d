// The resource store (controller/store/resource-store.ts) on the Kubernetes API server: etcd
// keeps the resources, as the CRDs sidestash.io/v1 and core v1 Secrets (store-mapping.ts).
// - Reads come from watch caches (informer.ts), one per kind and served namespace (all
//   namespaces when `namespaces` is not given); start() lists and watches and resolves once
//   every cache is synced; reads wait for that. Secrets are the exception: their informer lists
//   and watches metadata only (PartialObjectMetadata: no value crosses the wire or sits in the
//   cache), and get/list of a Secret ask the server, so that values are read only when the
//   controller needs them and copied nowhere.
// - Writes go to the server with the caller's resourceVersion as precondition: update replaces
//   the main resource (the server keeps the status), updateStatus writes /status (the server
//   keeps spec and metadata), delete sends a resourceVersion precondition. A write returns
//   once the store's own watch has delivered it (write-visibility.ts), so that a read by the same
//   store after a write sees it. A write the watch has not delivered within
//   writeVisibleTimeoutMs makes that kind's informers list again (informer.ts relist()): the
//   watch may be dead without a word, and the list brings the cache up to the server at once.
// - create with a status is two writes, as the status subresource ignores a status on create:
//   the object, then its /status. When the second write fails, the store deletes the object it
//   just created (preconditions uid and resourceVersion, so that nobody else's write is undone)
//   and throws the second write's error: a caller that retries the create does not find the name
//   taken by a half-written object. Watchers may hear ADDED and DELETED of it meanwhile.
//   Except when the second write lost (CONFLICT) to the leader's adoption of a session without
//   a status (session-adoption.ts: its status is then exactly {phase: Pending}, same uid): the
//   status is written again on the adopted version, as nothing but the adoption happened.
// - applyBatch writes in order and stops at the first failure (atomicBatches false), as
//   kubectl apply does.
// - Errors: store-errors.ts (CONFLICT retryable when stale, not retryable when the name is taken;
//   422 as VALIDATION_FAILED with field paths); a namespace outside `namespaces` is FORBIDDEN.
import { ErrorCodes, errorMessage, isSidestashError, SidestashError } from '../../common/errors.ts';
import { matchesLabels, parseLabelSelector } from '../../common/label-selector.ts';
import { createLogger } from '../../common/log.ts';
import type { Logger } from '../../common/log.ts';
import type { RetryPolicy } from '../../common/backend/retry.ts';
import { KINDS } from '../resources/types.ts';
import type { AppBindingSpec, Kind, Resource } from '../resources/types.ts';
import { readKubeDbAppBinding } from './kubedb-appbinding.ts';
import type { BatchWrite, ListOptions, Precondition, ResourceListener, ResourceStore } from '../store/resource-store.ts';
import { matchesListFields, pageOf } from '../store/list-fields.ts';
import { Informer, objectKey } from './informer.ts';
import type { InformerEventType, InformerStats } from './informer.ts';
import type { KubeClient } from './kube-client.ts';
import { isValidNamespace } from './resource-type.ts';
import { staleVersion, storeError } from './store-errors.ts';
import { byNamespaceThenName, resourceTypeOf, toNewObject, toResource, toStatusObject, toUpdatedObject } from './store-mapping.ts';
import type { StoredObject } from './store-mapping.ts';
import { WriteVisibility } from './write-visibility.ts';

type AnyResource = Resource<unknown, unknown>;

export interface KubernetesStoreOptions {
  client: KubeClient;
  /**
   * The namespaces this store serves (reads, writes and watches); all namespaces when absent or
   * empty. With a list, the controller needs RBAC only in those namespaces (Roles, not a
   * ClusterRole), Secrets included. INVALID_CONFIG for a name that is not a namespace name.
   */
  namespaces?: readonly string[];
  log?: Logger;
  /** How long a write waits for its own watch event before it returns anyway; default 10 s. */
  writeVisibleTimeoutMs?: number;
  /** The informers' reconnect backoff (informer.ts INFORMER_BACKOFF by default). */
  informerBackoff?: RetryPolicy;
}

const keyOf = (kind: Kind, namespace: string, name: string): string => `${kind}/${namespace}/${name}`;

export class KubernetesStore implements ResourceStore {
  readonly atomicBatches = false;
  readonly #client: KubeClient;
  readonly #namespaces: readonly string[] | undefined;
  readonly #log: Logger;
  readonly #options: KubernetesStoreOptions;
  readonly #listeners = new Set<ResourceListener>();
  readonly #informers = new Map<Kind, Informer<StoredObject>[]>();
  readonly #visibility: WriteVisibility;
  readonly #stop = new AbortController();
  #synced: Promise<void> | undefined;

  constructor(options: KubernetesStoreOptions) {
    this.#options = options;
    this.#client = options.client;
    const bad = (options.namespaces ?? []).filter((ns) => !isValidNamespace(ns));
    if (bad.length > 0) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `namespaces: not a Kubernetes namespace name: ${bad.map((ns) => JSON.stringify(ns)).join(', ')}`);
    this.#namespaces = options.namespaces && options.namespaces.length > 0 ? [...new Set(options.namespaces)].sort() : undefined;
    this.#log = options.log ?? createLogger({ component: 'kubernetes-store' });
    this.#visibility = new WriteVisibility(options.writeVisibleTimeoutMs ?? 10_000);
  }

  /** Lists and watches every kind; resolves when every cache is synced. Stops when `signal` aborts or on close(). */
  start(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return this.#synced;
    const stop = signal ? AbortSignal.any([signal, this.#stop.signal]) : this.#stop.signal;
    const synced: Promise<void>[] = [];
    for (const kind of KINDS) {
      const informers = (this.#namespaces ?? [undefined]).map((namespace) => {
        const informer = new Informer<StoredObject>(this.#client, {
          type: resourceTypeOf(kind), signal: stop, log: this.#log.child({ kind, ...(namespace ? { namespace } : {}) }),
          ...(namespace ? { namespace } : {}),
          ...(kind === 'Secret' ? { metadataOnly: true } : {}),
          ...(this.#options.informerBackoff ? { backoff: this.#options.informerBackoff } : {}),
        });
        informer.on((type, object, previous) => this.#heard(kind, type, object, previous));
        synced.push(informer.synced());
        return informer;
      });
      this.#informers.set(kind, informers);
    }
    this.#synced = Promise.all(synced).then(() => undefined);
    return this.#synced;
  }

  /** Resolves once start() has synced every cache. */
  synced(): Promise<void> {
    return this.#synced ?? Promise.reject(new SidestashError(ErrorCodes.KUBE_UNAVAILABLE, 'the Kubernetes store was not started (call start() first)'));
  }

  /** The informers' counters, summed (lists, watches, 410 re-lists, failures). */
  informerStats(): InformerStats {
    const sum: InformerStats = { lists: 0, watches: 0, expired: 0, failures: 0, relists: 0 };
    for (const informers of this.#informers.values()) {
      for (const { stats } of informers) for (const k of Object.keys(sum) as (keyof InformerStats)[]) sum[k] += stats[k];
    }
    return sum;
  }

  #heard(kind: Kind, type: InformerEventType, object: StoredObject, previous: StoredObject | undefined): void {
    const key = keyOf(kind, object.metadata.namespace ?? '', object.metadata.name ?? '');
    if (type === 'DELETED') this.#visibility.observe(key, WriteVisibility.deletedToken(object.metadata.uid ?? ''));
    else if (object.metadata.resourceVersion) this.#visibility.observe(key, WriteVisibility.versionToken(object.metadata.resourceVersion));
    const resource = toResource(kind, type === 'DELETED' ? (previous ?? object) : object);
    for (const listener of this.#listeners) {
      try {
        listener({ type, resource });
      } catch (err) {
        this.#log.error('a store listener failed', { error: errorMessage(err), event: type, object: `${kind} ${objectKey(object)}` });
      }
    }
  }

  #serves(namespace: string): boolean {
    return this.#namespaces === undefined || this.#namespaces.includes(namespace);
  }

  #mustServe(kind: Kind, namespace: string): void {
    if (!this.#serves(namespace)) {
      throw new SidestashError(ErrorCodes.FORBIDDEN, `${kind} in namespace ${JSON.stringify(namespace)}: this controller serves only ${this.#namespaces!.join(', ')}`);
    }
  }

  async #cached(kind: Kind, namespace: string, name: string): Promise<StoredObject | undefined> {
    await this.synced();
    for (const informer of this.#informers.get(kind) ?? []) {
      const found = informer.get(namespace, name);
      if (found) return found;
    }
    return undefined;
  }

  async #visible(kind: Kind, object: StoredObject, token: string): Promise<void> {
    const key = keyOf(kind, object.metadata.namespace ?? '', object.metadata.name ?? '');
    if (!(await this.#visibility.wait(key, token, this.#stop.signal)) && !this.#stop.signal.aborted) {
      this.#log.warn('a write was not seen on the watch in time: listing again; reads may lag until then', { object: key, token });
      const namespace = object.metadata.namespace ?? '';
      for (const informer of this.#informers.get(kind) ?? []) if (informer.namespace === undefined || informer.namespace === namespace) informer.relist();
    }
  }

  async get<S = Record<string, unknown>, T = Record<string, unknown>>(kind: Kind, namespace: string, name: string): Promise<Resource<S, T> | undefined> {
    if (!this.#serves(namespace)) return undefined;
    const type = resourceTypeOf(kind);
    if (kind === 'Secret') {
      try {
        return toResource(kind, await this.#client.get<StoredObject>(type, namespace, name, this.#stop.signal)) as Resource<S, T>;
      } catch (err) {
        if (isSidestashError(err, ErrorCodes.NOT_FOUND)) return undefined;
        throw storeError(err);
      }
    }
    const found = await this.#cached(kind, namespace, name);
    return found ? (toResource(kind, found) as Resource<S, T>) : undefined;
  }

  /** KubeDB's AppBinding, from the server each time (kubedb-appbinding.ts); never written. */
  async kubeDbAppBinding(namespace: string, name: string): Promise<Resource<AppBindingSpec> | undefined> {
    if (!this.#serves(namespace)) return undefined;
    try {
      return await readKubeDbAppBinding(this.#client, namespace, name, this.#stop.signal);
    } catch (err) {
      if (isSidestashError(err, ErrorCodes.FORBIDDEN)) {
        throw new SidestashError(ErrorCodes.FORBIDDEN, `reading KubeDB's AppBinding ${namespace}/${name}: the controller may not get appbindings.appcatalog.appscode.com in ${namespace} (chart value kubernetes.kubedbAppBindings)`);
      }
      throw storeError(err);
    }
  }

  /** From the watch caches; a Secret from its metadata-only cache, so no value is read. */
  async exists(kind: Kind, namespace: string, name: string): Promise<boolean> {
    if (!this.#serves(namespace)) return false;
    return (await this.#cached(kind, namespace, name)) !== undefined;
  }

  async list<S = Record<string, unknown>, T = Record<string, unknown>>(kind: Kind, options: ListOptions = {}): Promise<Resource<S, T>[]> {
    const requirements = options.labelSelector !== undefined ? parseLabelSelector(options.labelSelector) : [];
    if (options.namespace !== undefined && !this.#serves(options.namespace)) return [];
    let objects: StoredObject[];
    if (kind === 'Secret') {
      const namespaces = options.namespace !== undefined ? [options.namespace] : (this.#namespaces ?? [undefined]);
      objects = [];
      try {
        for (const ns of namespaces) objects.push(...(await this.#client.list<StoredObject>(resourceTypeOf(kind), ns, { signal: this.#stop.signal })).items);
      } catch (err) {
        throw storeError(err);
      }
    } else {
      await this.synced();
      objects = (this.#informers.get(kind) ?? []).flatMap((i) => i.list(options.namespace));
    }
    const all = objects
      .map((o) => toResource(kind, o))
      .filter((r) => matchesLabels(requirements, r.metadata.labels) && matchesListFields(r, options))
      .sort(byNamespaceThenName) as Resource<S, T>[];
    return pageOf(all, options);
  }

  async create<S, T>(resource: Resource<S, T>): Promise<Resource<S, T>> {
    const { kind, metadata: { namespace } } = resource;
    this.#mustServe(kind, namespace);
    if (kind === 'Secret' && resource.status !== undefined && Object.keys(resource.status as object).length > 0) {
      throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `a Secret has no status (${namespace}/${resource.metadata.name})`);
    }
    const type = resourceTypeOf(kind);
    let created: StoredObject;
    try {
      created = await this.#client.create<StoredObject>(type, toNewObject(resource as AnyResource, new Date().toISOString()), this.#stop.signal);
    } catch (err) {
      throw storeError(err, { kind });
    }
    if (kind !== 'Secret' && resource.status !== undefined) {
      try {
        created = await this.#client.replaceStatus<StoredObject>(type, toStatusObject(resource as AnyResource, created.metadata.resourceVersion!), this.#stop.signal);
      } catch (err) {
        const rebased = isSidestashError(err, ErrorCodes.CONFLICT) ? await this.#statusAfterAdoption(kind, created, resource as AnyResource) : undefined;
        if (!rebased) {
          await this.#undoCreate(kind, created, err);
          throw storeError(err);
        }
        created = rebased;
      }
    }
    if (kind !== 'Secret') await this.#visible(kind, created, WriteVisibility.versionToken(created.metadata.resourceVersion!));
    return toResource(kind, created) as Resource<S, T>;
  }

  /** The creator's status written over the leader's adoption of the object just created; undefined when anything else happened to it. */
  async #statusAfterAdoption(kind: Kind, created: StoredObject, resource: AnyResource): Promise<StoredObject | undefined> {
    const type = resourceTypeOf(kind);
    try {
      const now = await this.#client.get<StoredObject>(type, created.metadata.namespace, created.metadata.name!, this.#stop.signal);
      if (now.metadata.uid !== created.metadata.uid || JSON.stringify(now.status) !== JSON.stringify({ phase: 'Pending' })) return undefined;
      return await this.#client.replaceStatus<StoredObject>(type, toStatusObject(resource, now.metadata.resourceVersion!), this.#stop.signal);
    } catch {
      return undefined;
    }
  }

  async #undoCreate(kind: Kind, created: StoredObject, cause: unknown): Promise<void> {
    const { namespace, name, uid, resourceVersion } = created.metadata;
    try {
      await this.#client.delete(resourceTypeOf(kind), namespace, name!, { ...(uid ? { uid } : {}), ...(resourceVersion ? { resourceVersion } : {}), signal: this.#stop.signal });
    } catch (err) {
      this.#log.error('created an object but could not write its status nor delete it again: it stays without a status', {
        object: `${kind} ${namespace}/${name}`, error: errorMessage(cause), deleteError: errorMessage(err),
      });
    }
  }

  /** The object as stored at `ifVersion`: the cache's when it has that version, else the server's. */
  async #storedAt(kind: Kind, namespace: string, name: string, ifVersion: string): Promise<StoredObject> {
    if (kind !== 'Secret') {
      const cached = await this.#cached(kind, namespace, name);
      if (cached?.metadata.resourceVersion === ifVersion) return cached;
    }
    let stored: StoredObject;
    try {
      stored = await this.#client.get<StoredObject>(resourceTypeOf(kind), namespace, name, this.#stop.signal);
    } catch (err) {
      throw storeError(err);
    }
    if (stored.metadata.resourceVersion !== ifVersion) throw staleVersion(`${kind} ${namespace}/${name}`, ifVersion, stored.metadata.resourceVersion);
    return stored;
  }

  async update<S, T>(resource: Resource<S, T>, precondition: Precondition): Promise<Resource<S, T>> {
    const { kind, metadata: { namespace, name } } = resource;
    this.#mustServe(kind, namespace);
    const stored = await this.#storedAt(kind, namespace, name, precondition.ifVersion);
    let written: StoredObject;
    try {
      written = await this.#client.replace<StoredObject>(resourceTypeOf(kind), toUpdatedObject(stored, resource as AnyResource, precondition.ifVersion), this.#stop.signal);
    } catch (err) {
      throw storeError(err, { kind });
    }
    if (kind !== 'Secret') await this.#visible(kind, written, WriteVisibility.versionToken(written.metadata.resourceVersion!));
    return toResource(kind, written) as Resource<S, T>;
  }

  async updateStatus<S, T>(resource: Resource<S, T>, precondition: Precondition): Promise<Resource<S, T>> {
    const { kind, metadata: { namespace, name } } = resource;
    this.#mustServe(kind, namespace);
    if (kind === 'Secret') throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `a Secret has no status (${namespace}/${name})`);
    let written: StoredObject;
    try {
      written = await this.#client.replaceStatus<StoredObject>(resourceTypeOf(kind), toStatusObject(resource as AnyResource, precondition.ifVersion), this.#stop.signal);
    } catch (err) {
      throw storeError(err);
    }
    await this.#visible(kind, written, WriteVisibility.versionToken(written.metadata.resourceVersion!));
    return toResource(kind, written) as Resource<S, T>;
  }

  /** durability is ignored, as updateStatus's: the API server's writes are all durable. */
  async delete(kind: Kind, namespace: string, name: string, precondition: Partial<Precondition> = {}): Promise<boolean> {
    this.#mustServe(kind, namespace);
    const cached = kind === 'Secret' ? undefined : await this.#cached(kind, namespace, name);
    try {
      await this.#client.delete(resourceTypeOf(kind), namespace, name, { ...(precondition.ifVersion !== undefined ? { resourceVersion: precondition.ifVersion } : {}), signal: this.#stop.signal });
    } catch (err) {
      if (isSidestashError(err, ErrorCodes.NOT_FOUND)) return false;
      throw storeError(err, { kind });
    }
    if (cached?.metadata.uid) await this.#visible(kind, cached, WriteVisibility.deletedToken(cached.metadata.uid));
    return true;
  }

  async applyBatch(writes: readonly BatchWrite[]): Promise<AnyResource[]> {
    const stored: AnyResource[] = [];
    for (const write of writes) {
      stored.push(write.op === 'create' ? await this.create(write.resource) : await this.update(write.resource, { ifVersion: write.ifVersion }));
    }
    return stored;
  }

  watch(listener: ResourceListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  close(): void {
    this.#stop.abort();
    this.#visibility.close();
    this.#listeners.clear();
  }
}
