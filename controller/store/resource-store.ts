// The resource store: the one seam between the controller and where its Stash-like resources
// live. Two implementations are meant to sit behind it: the embedded sqlite file
// (sqlite-store.ts) and, later, the Kubernetes API server (etcd). It therefore offers only what
// the API server offers, so that nothing above it relies on more:
// - per-object optimistic concurrency: every stored object has an opaque resourceVersion
//   (a string, compared only for equality); update, updateStatus and delete may name the
//   version they read (`ifVersion`) and fail with CONFLICT (retryable: true) when the stored
//   one differs. There are no multi-object transactions; invariants across objects are the
//   caller's (the session manager's mutex, the leader's single writer).
// - spec and status written separately: update() writes metadata and spec and keeps the stored
//   status, updateStatus() writes the status and keeps the stored spec and metadata, as
//   Kubernetes' main resource and its /status subresource do.
// - a change feed: watch() hears of every write (ADDED, MODIFIED, DELETED) after it is stored,
//   so that long-polls and caches wake; the sqlite store emits in-process, a Kubernetes store
//   from its watch.
// - applyBatch(): several creates and updates of one `apply`. Whether the batch is all or
//   nothing is the store's capability, `atomicBatches`: sqlite writes it in one transaction
//   (a CONFLICT stores none), a Kubernetes store writes in order and stops at the first failure,
//   leaving the earlier writes in place (as kubectl apply does). Callers validate every
//   document before they call it either way.
// Errors: CONFLICT (a name taken on create: retryable false; a stale ifVersion: retryable true),
// NOT_FOUND (update or updateStatus of an object that is gone), INVALID_ARGUMENT (a malformed
// label selector). Ordering: list() answers by namespace, then name; creation order is
// resource-order.ts's rule, never resourceVersion.
import type { AppBindingSpec, Kind, Resource } from '../resources/types.ts';

/** Opaque: compare for equality only (Kubernetes' rule). */
export type ResourceVersion = string;

export interface ListOptions {
  /** Only this namespace; all namespaces when absent. */
  namespace?: string;
  /** Kubernetes label selector syntax (common/label-selector.ts), e.g. "app=db,tier!=cache". */
  labelSelector?: string;
  /** Only resources whose status.phase is one of these (none matches a resource without one): list-fields.ts. */
  phases?: readonly string[];
  /** Only resources whose spec.invoker.name is this (a BackupSession's BackupConfiguration): list-fields.ts. */
  invoker?: string;
  /** Only resources whose status.readDataCheckPending.session is this (the Repository a backup session was asked to read): list-fields.ts. */
  readDataCheckPendingSession?: string;
  /** Only resources after this one in the list's order (namespace, then name): a page's start. */
  after?: { namespace: string; name: string };
  /** At most this many (after the other filters). */
  limit?: number;
}

/** The version the caller read: the write fails with CONFLICT if the stored one differs. */
export interface Precondition {
  ifVersion: ResourceVersion;
  /**
   * updateStatus and delete only. 'relaxed': the write may be lost with the machine's power (on
   * sqlite it is not synced to disk at its commit), but never half made and never out of order:
   * the next durable write makes it durable too. For status that the next report writes again
   * (progress, lease renewals) and for writes derived from a durable one that something running
   * anyway makes again (a finished session's follow-ups: sessions/finish-durability.ts), so that
   * a fleet's writes do not each wait for a disk sync. Default: durable. A store whose every
   * write is durable (Kubernetes) ignores it.
   */
  durability?: 'relaxed';
}

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One stored write: for DELETED, the resource as it was last stored. */
export interface ResourceEvent {
  type: ChangeType;
  resource: Resource<unknown, unknown>;
}

export type ResourceListener = (event: ResourceEvent) => void;

/** One write of applyBatch: a create, or an update of metadata and spec (status kept). */
export type BatchWrite =
  | { op: 'create'; resource: Resource<unknown, unknown> }
  | { op: 'update'; resource: Resource<unknown, unknown>; ifVersion: ResourceVersion };

export interface ResourceStore {
  get<S = Record<string, unknown>, T = Record<string, unknown>>(kind: Kind, namespace: string, name: string): Promise<Resource<S, T> | undefined>;

  /** Whether it exists, without reading it: a Kubernetes store answers a Secret from its metadata-only cache (no value read). */
  exists(kind: Kind, namespace: string, name: string): Promise<boolean>;

  /**
   * Kubernetes mode only: KubeDB's AppBinding (appcatalog.appscode.com/v1alpha1) ns/name read
   * from the server as our AppBinding (controller/kubernetes/kubedb-appbinding.ts); undefined
   * when there is none. A store without it has no KubeDB AppBindings (sqlite).
   */
  kubeDbAppBinding?(namespace: string, name: string): Promise<Resource<AppBindingSpec> | undefined>;

  /** Every resource of `kind` (in `namespace`, matching `labelSelector`), by namespace then name. */
  list<S = Record<string, unknown>, T = Record<string, unknown>>(kind: Kind, options?: ListOptions): Promise<Resource<S, T>[]>;

  /**
   * Stores a new resource, its status included (a Kubernetes store writes that through /status
   * right after); assigns uid and resourceVersion, and creationTimestamp unless given.
   * CONFLICT (not retryable) when the name is taken.
   */
  create<S, T>(resource: Resource<S, T>): Promise<Resource<S, T>>;

  /**
   * Replaces metadata (labels) and spec; the stored status, uid and creationTimestamp are kept.
   * NOT_FOUND when gone; CONFLICT (retryable) when the stored version is not `ifVersion`.
   */
  update<S, T>(resource: Resource<S, T>, precondition: Precondition): Promise<Resource<S, T>>;

  /** Replaces the status only (Kubernetes' /status): spec and metadata stay as stored. Errors as update. */
  updateStatus<S, T>(resource: Resource<S, T>, precondition: Precondition): Promise<Resource<S, T>>;

  /** Deletes; false when there was nothing to delete. CONFLICT (retryable) when `ifVersion` is given and stale; `durability` as updateStatus's. */
  delete(kind: Kind, namespace: string, name: string, precondition?: Partial<Precondition>): Promise<boolean>;

  /** Whether applyBatch is all or nothing (sqlite) or in order up to the first failure (Kubernetes). */
  readonly atomicBatches: boolean;

  /** The writes of one apply, in order; returns the stored resources. See atomicBatches. */
  applyBatch(writes: readonly BatchWrite[]): Promise<Resource<unknown, unknown>[]>;

  /** Hears of every write after it is stored; returns the function that stops listening. */
  watch(listener: ResourceListener): () => void;

  close(): void;
}
