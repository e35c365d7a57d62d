// Read-your-writes for a store that reads from watch caches: a write returns only after the
// store's own informer has delivered that write (the event with the resourceVersion the server
// answered, or the DELETED event of the deleted uid), so that a get or list after it sees it.
// Why wait rather than put the written object into the cache: resourceVersions are compared
// for equality only (resource-store.ts), so the store cannot tell whether its written copy or
// a watch event that arrives later is the newer one; waiting for the version to come through the
// watch keeps the cache a faithful, ordered copy of the server.
// Events may come before the write's answer is read: the recent versions of every key are
// remembered (a few per key), and a wait for one already seen ends at once. A wait that never
// sees its version (the watch is down, or a 410 re-list jumped past it) ends after `timeoutMs`
// with false: the write is done on the server, and reads may lag until the watch catches up.
// Memory is bounded: the recent versions are kept for the `maxKeys` keys observed last (least
// recently observed dropped first; deleted objects and sessions with unique names age out like
// any other key): an event is only needed for the moment between the server's answer and the
// wait, so the newest keys are the ones that matter. Waiters are kept until they end.
const RECENT_PER_KEY = 16;
export const RECENT_KEYS = 4096;

interface Waiter {
  token: string;
  resolve: (seen: boolean) => void;
}

export class WriteVisibility {
  readonly #recent = new Map<string, string[]>();
  readonly #waiters = new Map<string, Waiter[]>();
  readonly #timeoutMs: number;
  readonly #maxKeys: number;

  constructor(timeoutMs: number, maxKeys = RECENT_KEYS) {
    this.#timeoutMs = timeoutMs;
    this.#maxKeys = maxKeys;
  }

  /** How many keys' recent versions are remembered (at most `maxKeys`). */
  get rememberedKeys(): number {
    return this.#recent.size;
  }

  static versionToken(resourceVersion: string): string {
    return `rv:${resourceVersion}`;
  }

  static deletedToken(uid: string): string {
    return `deleted:${uid}`;
  }

  /** What the informer delivered for `key`. */
  observe(key: string, token: string): void {
    const recent = this.#recent.get(key) ?? [];
    recent.push(token);
    if (recent.length > RECENT_PER_KEY) recent.shift();
    // Re-inserted, so that the Map's order is the order keys were last observed in.
    this.#recent.delete(key);
    this.#recent.set(key, recent);
    if (this.#recent.size > this.#maxKeys) this.#recent.delete(this.#recent.keys().next().value!);
    const waiters = this.#waiters.get(key);
    if (!waiters) return;
    const left = waiters.filter((w) => {
      if (w.token !== token) return true;
      w.resolve(true);
      return false;
    });
    if (left.length > 0) this.#waiters.set(key, left);
    else this.#waiters.delete(key);
  }

  /** Resolves true when `token` has been observed for `key`, false after the timeout. */
  wait(key: string, token: string, signal?: AbortSignal): Promise<boolean> {
    if (this.#recent.get(key)?.includes(token)) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = (seen: boolean) => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(seen);
      };
      const onAbort = () => {
        this.#remove(key, waiter);
        finish(false);
      };
      const waiter: Waiter = { token, resolve: finish };
      timer = setTimeout(onAbort, this.#timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.set(key, [...(this.#waiters.get(key) ?? []), waiter]);
    });
  }

  #remove(key: string, waiter: Waiter): void {
    const left = (this.#waiters.get(key) ?? []).filter((w) => w !== waiter);
    if (left.length > 0) this.#waiters.set(key, left);
    else this.#waiters.delete(key);
  }

  /** Ends every wait (false): the store is closing. */
  close(): void {
    for (const waiters of this.#waiters.values()) for (const w of waiters) w.resolve(false);
    this.#waiters.clear();
    this.#recent.clear();
  }
}
