// Events for `kubectl describe` (core/v1 Events: kubectl describe finds them by the
// involvedObject's kind, name, namespace and uid, custom resources included). record() returns at
// once and never throws: events go through a bounded queue to one writer; a repeat of the same
// event (object, type, reason, message) within the aggregation window raises its count and
// lastTimestamp instead of making a new Event (client-go's correlator), shown by describe as
// "(xN over …)". An event that cannot be written is logged and dropped.
import { errorMessage, isSidestashError, ErrorCodes } from '../../common/errors.ts';
import { createLogger } from '../../common/log.ts';
import type { Logger } from '../../common/log.ts';
import { withRetry } from '../../common/backend/retry.ts';
import type { KubeClient } from './kube-client.ts';
import { microTime } from './leader-decision.ts';
import { CoreEvents, isValidName, isValidNamespace } from './resource-type.ts';
import type { KubeObject } from './resource-type.ts';

export type EventType = 'Normal' | 'Warning';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export interface CoreEvent extends KubeObject {
  involvedObject: { apiVersion: string; kind: string; name: string; namespace?: string; uid?: string; resourceVersion?: string };
  reason: string;
  message: string;
  type: EventType;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string; host?: string };
  reportingComponent: string;
  reportingInstance: string;
}

export interface EventRecorderOptions {
  /** source.component, e.g. sidestash-controller. */
  component: string;
  /** reportingInstance and source.host: this replica. */
  instance: string;
  /** Repeats within this window are one Event with a count (default 10 minutes). */
  aggregateWindowMs?: number;
  /** Events waiting to be written; beyond this the newest are dropped (default 1000). */
  maxQueue?: number;
  log?: Logger;
}

const REASON = /^[A-Z][A-Za-z0-9]{0,127}$/;
export const MAX_EVENT_MESSAGE = 1024;

interface Pending {
  key: string;
  object: InvolvedObject;
  type: EventType;
  reason: string;
  message: string;
  atMs: number;
}

export class EventRecorder {
  readonly #client: KubeClient;
  readonly #o: Required<Omit<EventRecorderOptions, 'log'>>;
  readonly #log: Logger;
  readonly #queue: Pending[] = [];
  readonly #seen = new Map<string, { namespace: string; name: string; count: number; firstTimestamp: string; lastMs: number }>();
  #writing: Promise<void> | undefined;
  /** Events dropped (queue full, invalid input, or the API server refused). */
  dropped = 0;

  constructor(client: KubeClient, options: EventRecorderOptions) {
    this.#client = client;
    this.#o = { aggregateWindowMs: 10 * 60_000, maxQueue: 1000, ...options };
    this.#log = options.log ?? createLogger({ component: 'events' });
  }

  /** Records an event about `object`; returns at once, never throws. */
  record(object: InvolvedObject, type: EventType, reason: string, message: string): void {
    try {
      const { name, namespace, uid } = object.metadata;
      if (!name || !isValidName(name) || (namespace !== undefined && !isValidNamespace(namespace)) || (type !== 'Normal' && type !== 'Warning') || !REASON.test(reason)) {
        this.dropped++;
        this.#log.warn('event dropped: not a valid event', { kind: object.kind, name, reason, type });
        return;
      }
      if (this.#queue.length >= this.#o.maxQueue) {
        this.dropped++;
        this.#log.warn('event dropped: queue full', { kind: object.kind, name, reason });
        return;
      }
      const text = message.length > MAX_EVENT_MESSAGE ? `${message.slice(0, MAX_EVENT_MESSAGE - 1)}…` : message;
      const key = JSON.stringify([object.kind, namespace ?? '', name, uid ?? '', type, reason, text]);
      this.#queue.push({ key, object, type, reason, message: text, atMs: Date.now() });
      this.#writing ??= this.#drain().finally(() => (this.#writing = undefined));
    } catch (err) {
      this.dropped++;
      this.#log.warn('event dropped', { error: errorMessage(err) });
    }
  }

  /** Resolves when every event recorded so far has been written (or dropped). */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async #drain(): Promise<void> {
    for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
      try {
        await withRetry('writing an event', { attempts: 3, baseDelayMs: 200, maxDelayMs: 2000 }, undefined, () => this.#write(next!));
      } catch (err) {
        this.dropped++;
        this.#log.warn('event not written', { error: errorMessage(err), reason: next.reason, name: next.object.metadata.name });
      }
    }
  }

  async #write(e: Pending): Promise<void> {
    const now = microTime(e.atMs);
    const prior = this.#seen.get(e.key);
    if (prior && e.atMs - prior.lastMs <= this.#o.aggregateWindowMs) {
      try {
        await this.#client.patch(CoreEvents, prior.namespace, prior.name, { count: prior.count + 1, lastTimestamp: now });
        prior.count++;
        prior.lastMs = e.atMs;
        return;
      } catch (err) {
        // The Event expired (the API server keeps them an hour by default): a new one.
        if (!isSidestashError(err, ErrorCodes.NOT_FOUND)) throw err;
      }
    }
    const { metadata: m } = e.object;
    const namespace = m.namespace ?? 'default';
    const name = `${m.name}.${(BigInt(e.atMs) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000))).toString(16)}`.slice(0, 253);
    const event: CoreEvent = {
      metadata: { name, namespace },
      involvedObject: { apiVersion: e.object.apiVersion, kind: e.object.kind, name: m.name!, ...(m.namespace ? { namespace: m.namespace } : {}), ...(m.uid ? { uid: m.uid } : {}), ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}) },
      reason: e.reason, message: e.message, type: e.type, count: 1, firstTimestamp: now, lastTimestamp: now,
      source: { component: this.#o.component, host: this.#o.instance },
      reportingComponent: this.#o.component, reportingInstance: this.#o.instance,
    };
    await this.#client.create<CoreEvent>(CoreEvents, event);
    this.#seen.set(e.key, { namespace, name, count: 1, firstTimestamp: now, lastMs: e.atMs });
    if (this.#seen.size > 4096) this.#forgetOld(e.atMs);
  }

  #forgetOld(nowMs: number): void {
    for (const [k, v] of this.#seen) if (nowMs - v.lastMs > this.#o.aggregateWindowMs) this.#seen.delete(k);
  }
}
