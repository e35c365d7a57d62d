// A watch cache (client-go's informer, reduced): list, then watch from the list's
// resourceVersion with bookmarks; a watch that ends or drops resumes from the last
// resourceVersion seen (no event lost), after a backoff (common/backend/retry.ts) when it failed;
// 410 Gone (RESOURCE_EXPIRED) lists again and turns the difference into events, so that the
// cache equals the server afterwards. The cache is indexed by namespace/name; listeners get
// ADDED, MODIFIED and DELETED in the server's order. It stops when the signal aborts.
// A dead connection that never closes (half-open: a NAT or a node gone) is noticed by silence:
// kube-apiserver v1.34.2 sends a quiet watch served from its watch cache (CRDs, Secrets) a
// BOOKMARK every 60 s (measured on a quiet namespace: 60.3, 59.8, 60.5 s apart; a watch served
// from etcd, --watch-cache-sizes=X#0, gets none), so no byte for WATCH_IDLE_TIMEOUT_MS (2.5
// intervals) ends the watch and it resumes from its resourceVersion. relist() ends the current watch and lists again at once: the store
// calls it when a write it made did not come through the watch in time.
import { ErrorCodes, errorMessage, isSidestashError } from '../../common/errors.ts';
import { createLogger } from '../../common/log.ts';
import type { Logger } from '../../common/log.ts';
import { retryDelayMs, sleep } from '../../common/backend/retry.ts';
import type { RetryPolicy } from '../../common/backend/retry.ts';
import type { KubeClient } from './kube-client.ts';
import type { KubeObject, ResourceType } from './resource-type.ts';

export type InformerEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
/** `previous`: the cached object a MODIFIED or DELETED replaces (for DELETED after a re-list, the last one known). */
export type InformerListener<T extends KubeObject> = (type: InformerEventType, object: T, previous: T | undefined) => void;

export interface InformerOptions {
  type: ResourceType;
  /** undefined: all namespaces. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  signal: AbortSignal;
  /** Reconnect backoff (attempts is ignored: an informer never gives up). */
  backoff?: RetryPolicy;
  /** The server ends each watch after this long; default random in [300, 600) as client-go. */
  watchTimeoutSeconds?: number;
  log?: Logger;
  /** List and watch metadata only (PartialObjectMetadata): e.g. Secrets without their values. */
  metadataOnly?: boolean;
  /** No byte on the watch for this long: the connection is dead; default WATCH_IDLE_TIMEOUT_MS. */
  watchIdleTimeoutMs?: number;
}

/** 2.5 bookmark intervals of kube-apiserver (60 s on a quiet watch). */
export const WATCH_IDLE_TIMEOUT_MS = 150_000;

export const INFORMER_BACKOFF: RetryPolicy = { attempts: Infinity, baseDelayMs: 200, maxDelayMs: 30_000 };

export function objectKey(object: KubeObject): string {
  return object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : (object.metadata.name ?? '');
}

export interface InformerStats {
  lists: number;
  watches: number;
  /** Re-lists because the server answered 410 Gone. */
  expired: number;
  /** Watches that failed (dropped, refused, 5xx, silent past the idle timeout) and were retried after a backoff. */
  failures: number;
  /** Lists asked for by relist(). */
  relists: number;
}

export class Informer<T extends KubeObject> {
  readonly #client: KubeClient;
  readonly #options: InformerOptions;
  readonly #log: Logger;
  readonly #cache = new Map<string, T>();
  readonly #listeners = new Set<InformerListener<T>>();
  #resourceVersion: string | undefined;
  #synced!: () => void;
  #syncFailed!: (err: unknown) => void;
  readonly #syncedPromise: Promise<void>;
  readonly stats: InformerStats = { lists: 0, watches: 0, expired: 0, failures: 0, relists: 0 };
  #relistAsked = false;
  #watchStop: AbortController | undefined;
  /** Settles when the loop has ended (after the signal aborted). */
  readonly done: Promise<void>;

  constructor(client: KubeClient, options: InformerOptions) {
    this.#client = client;
    this.#options = options;
    this.#log = options.log ?? createLogger({ component: 'informer', resource: options.type.plural });
    this.#syncedPromise = new Promise<void>((resolve, reject) => {
      this.#synced = resolve;
      this.#syncFailed = reject;
    });
    this.#syncedPromise.catch(() => {});
    this.done = this.#run();
  }

  /** Resolves after the first complete list; rejects if the signal aborts before. */
  synced(): Promise<void> {
    return this.#syncedPromise;
  }

  /** The namespace it watches (undefined: all). */
  get namespace(): string | undefined {
    return this.#options.namespace;
  }

  /** The last resourceVersion the cache reflects (list, event or bookmark). */
  get resourceVersion(): string | undefined {
    return this.#resourceVersion;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#cache.get(namespace ? `${namespace}/${name}` : name);
  }

  /** The cached objects (of one namespace, or all). */
  list(namespace?: string): T[] {
    const all = [...this.#cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  /**
   * Ends the current watch and lists again now (the list's differences become events): for when
   * the cache is suspected stale, e.g. a write was not delivered by the watch in time. Several
   * calls before the list make one list.
   */
  relist(): void {
    if (this.#options.signal.aborted || this.#relistAsked) return;
    this.#relistAsked = true;
    this.#watchStop?.abort();
  }

  /** Adds a listener; returns its removal. */
  on(listener: InformerListener<T>): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(type: InformerEventType, object: T, previous: T | undefined): void {
    for (const l of this.#listeners) {
      try {
        l(type, object, previous);
      } catch (err) {
        this.#log.error('an informer listener failed', { error: errorMessage(err), event: type, object: objectKey(object) });
      }
    }
  }

  /** A fresh list replaces the cache; what changed meanwhile becomes events. */
  #replace(items: T[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      const key = objectKey(item);
      seen.add(key);
      const old = this.#cache.get(key);
      this.#cache.set(key, item);
      if (!old) this.#emit('ADDED', item, undefined);
      else if (old.metadata.resourceVersion !== item.metadata.resourceVersion || old.metadata.uid !== item.metadata.uid) this.#emit('MODIFIED', item, old);
    }
    for (const [key, old] of [...this.#cache]) {
      if (seen.has(key)) continue;
      this.#cache.delete(key);
      this.#emit('DELETED', old, old);
    }
  }

  #apply(type: InformerEventType, object: T): void {
    const key = objectKey(object);
    const old = this.#cache.get(key);
    if (type === 'DELETED') {
      this.#cache.delete(key);
      this.#emit('DELETED', object, old);
      return;
    }
    this.#cache.set(key, object);
    this.#emit(old ? 'MODIFIED' : 'ADDED', object, old);
  }

  async #run(): Promise<void> {
    const { type, namespace, signal } = this.#options;
    const backoff = this.#options.backoff ?? INFORMER_BACKOFF;
    const selectors = {
      ...(this.#options.labelSelector ? { labelSelector: this.#options.labelSelector } : {}), ...(this.#options.fieldSelector ? { fieldSelector: this.#options.fieldSelector } : {}),
      ...(this.#options.metadataOnly ? { metadataOnly: true } : {}),
    };
    let failures = 0;
    let mustList = true;
    while (!signal.aborted) {
      const startedMs = Date.now();
      let events = 0;
      try {
        if (mustList || this.#relistAsked) {
          if (!mustList) this.stats.relists++;
          this.#relistAsked = false;
          this.stats.lists++;
          const list = await this.#client.list<T>(type, namespace, { ...selectors, signal });
          this.#replace(list.items);
          this.#resourceVersion = list.metadata.resourceVersion;
          mustList = false;
          this.#synced();
        }
        if (this.#relistAsked) continue;
        this.stats.watches++;
        const timeoutSeconds = this.#options.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
        const idleTimeoutMs = this.#options.watchIdleTimeoutMs ?? WATCH_IDLE_TIMEOUT_MS;
        this.#watchStop = new AbortController();
        const watchSignal = AbortSignal.any([signal, this.#watchStop.signal]);
        for await (const event of this.#client.watch<T>(type, namespace, { ...selectors, resourceVersion: this.#resourceVersion!, timeoutSeconds, idleTimeoutMs, signal: watchSignal })) {
          events++;
          failures = 0;
          if (event.type !== 'BOOKMARK') this.#apply(event.type as InformerEventType, event.object);
          if (event.object.metadata.resourceVersion) this.#resourceVersion = event.object.metadata.resourceVersion;
        }
        // The server ended the watch (its timeout): watch again from where it ended, at once
        // unless it ended at once without a word (then as a failure, to not spin).
        if (events === 0 && Date.now() - startedMs < 1000) throw new Error('the watch ended at once');
      } catch (err) {
        if (signal.aborted) break;
        if (this.#relistAsked) continue;
        if (isSidestashError(err, ErrorCodes.RESOURCE_EXPIRED) && !mustList) {
          this.stats.expired++;
          this.#log.info('resourceVersion expired (410 Gone): listing again', { resourceVersion: this.#resourceVersion });
          mustList = true;
          continue;
        }
        this.stats.failures++;
        failures++;
        const retryAfterMs = isSidestashError(err) && typeof err.details.retryAfterMs === 'number' ? err.details.retryAfterMs : undefined;
        const delayMs = retryDelayMs(failures, backoff, retryAfterMs, Math.random());
        this.#log.warn(mustList ? 'list failed; trying again' : 'watch failed; resuming', { error: errorMessage(err), code: isSidestashError(err) ? err.code : undefined, resourceVersion: this.#resourceVersion, delayMs: Math.round(delayMs) });
        await sleep(delayMs, signal).catch(() => {});
      }
    }
    this.#syncFailed(new Error('informer stopped before it synced'));
  }
}
