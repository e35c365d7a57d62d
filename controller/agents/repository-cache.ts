// Opened repositories, kept for the controller's checks of reported snapshots (result-check.ts).
// Opening one derives its master key from the password with scrypt (32 MiB, ~150 ms of CPU per
// open, common/repository/key-file.ts): once per finished session, a fleet's storm of results
// (2,000 sessions on one cron minute) saturated the thread pool and held 4 x 32 MiB of scrypt
// memory. An entry is the repository as opened with one location, credentials and password
// (their SHA-256, so a changed Secret opens afresh), for at most maxAgeMs (a repository
// initialised again at the same place is seen after that, or at once through evict()); at most
// `capacity` entries, the least recently used one dropped first. A failed open is not kept.
import { createHash } from 'node:crypto';
import type { RepositoryAccess } from '../../common/protocol.ts';
import type { Repository } from '../../common/repository/repository.ts';

export interface RepositoryCacheOptions {
  open: (access: RepositoryAccess) => Promise<Repository>;
  capacity?: number;
  maxAgeMs?: number;
  now?: () => number;
}

export class RepositoryCache {
  readonly #open: (access: RepositoryAccess) => Promise<Repository>;
  readonly #capacity: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  /** In use order, least recent first (a Map keeps insertion order). */
  readonly #entries = new Map<string, { repo: Promise<Repository>; openedAtMs: number }>();

  constructor(options: RepositoryCacheOptions) {
    this.#open = options.open;
    this.#capacity = options.capacity ?? 1024;
    this.#maxAgeMs = options.maxAgeMs ?? 10 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  static keyOf(access: RepositoryAccess): string {
    const credentials = Object.entries(access.credentials).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return createHash('sha256').update(JSON.stringify([access.location, credentials, access.password])).digest('hex');
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The repository `access` opens: a kept one, or opened now (concurrent callers share one open). */
  get(access: RepositoryAccess): Promise<Repository> {
    const key = RepositoryCache.keyOf(access);
    const now = this.#now();
    const hit = this.#entries.get(key);
    this.#entries.delete(key);
    if (hit && now - hit.openedAtMs < this.#maxAgeMs) {
      this.#entries.set(key, hit);
      return hit.repo;
    }
    const repo = this.#open(access);
    const entry = { repo, openedAtMs: now };
    this.#entries.set(key, entry);
    repo.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    while (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value!);
    return repo;
  }

  /** Forgets what `access` opened (what it read could not be read with the kept key). */
  evict(access: RepositoryAccess): void {
    this.#entries.delete(RepositoryCache.keyOf(access));
  }
}
