// Kubernetes mode: objects applied with kubectl reach no replica's HTTP API, so the leader keeps
// status.missingReferences up to date from the store's watch instead. A change in a namespace
// schedules one refresh of that namespace after `delayMs` (a burst of changes, such as a
// `kubectl apply -f dir/`, costs one); the refresh writes only statuses that change, so its own
// writes end in a refresh that writes nothing. Never throws: a failed refresh is logged and the
// next change (or the leader's next term) tries again.
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';

export class ReferenceRefresher {
  readonly #refresh: (namespace: string) => Promise<unknown>;
  readonly #delayMs: number;
  readonly #log: Logger;
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  #stopped = false;

  constructor(refresh: (namespace: string) => Promise<unknown>, log: Logger, delayMs = 1000) {
    this.#refresh = refresh;
    this.#log = log;
    this.#delayMs = delayMs;
  }

  /** Something in `namespace` changed: refresh it soon (once for a burst). */
  touch(namespace: string): void {
    if (this.#stopped || this.#timers.has(namespace)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(namespace);
      if (this.#stopped) return;
      this.#refresh(namespace).catch((err: unknown) => this.#log.warn('could not refresh missing references', { namespace, err: errorMessage(err) }));
    }, this.#delayMs);
    timer.unref?.();
    this.#timers.set(namespace, timer);
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}
