// The sqlite store's agents (agent-directory.ts): the `agents` table beside the resources in the
// store's database. Registrations are written at once; last-seen times (touchAgent) are read back
// at once and written in batches, one transaction at most SEEN_FLUSH_MS later.
import type { DatabaseSync } from 'node:sqlite';
import type { AgentDirectory, AgentRecord } from './agent-directory.ts';
import { statement } from './statement-cache.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS agents (
  name TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL, targets TEXT NOT NULL,
  version TEXT NOT NULL, registered_at TEXT NOT NULL, last_seen_at TEXT NOT NULL
);
`;

/** How long an agent's last-seen time may wait to be written with others (touchAgent). */
export const SEEN_FLUSH_MS = 1000;

export class SqliteAgents implements AgentDirectory {
  readonly #db: DatabaseSync;
  /** Agents' last-seen times not written yet (touchAgent): written together, at most SEEN_FLUSH_MS later. */
  readonly #seen = new Map<string, string>();
  #seenTimer: ReturnType<typeof setTimeout> | undefined;

  /** Creates the table when the database has none. */
  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(SCHEMA);
  }

  putAgent(a: AgentRecord): void {
    this.#seen.delete(a.name);
    statement(
      this.#db,
      `INSERT INTO agents (name, token_sha256, targets, version, registered_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT(name) DO UPDATE SET token_sha256 = excluded.token_sha256, targets = excluded.targets, version = excluded.version,
        registered_at = excluded.registered_at, last_seen_at = excluded.last_seen_at`,
    ).run(a.name, a.tokenSha256, JSON.stringify(a.targets), a.version, a.registeredAt, a.lastSeenAt);
  }

  #agent(r: Record<string, string>): AgentRecord {
    return { name: r.name!, tokenSha256: r.token_sha256!, targets: JSON.parse(r.targets!) as string[], version: r.version!, registeredAt: r.registered_at!, lastSeenAt: this.#seen.get(r.name!) ?? r.last_seen_at! };
  }

  getAgent(name: string): AgentRecord | undefined {
    const r = statement(this.#db, 'SELECT * FROM agents WHERE name = ?').get(name) as Record<string, string> | undefined;
    return r && this.#agent(r);
  }

  /** Every agent in one query (the sweeps and each /metrics scrape read them all). */
  listAgents(): AgentRecord[] {
    return (statement(this.#db, 'SELECT * FROM agents ORDER BY name').all() as Record<string, string>[]).map((r) => this.#agent(r));
  }

  /**
   * Records that an agent was seen: read back at once (getAgent, listAgents), written with the
   * others seen meanwhile in one transaction at most SEEN_FLUSH_MS later (one commit, so one
   * fsync, instead of one per agent call: 2,000 agents made hundreds a second). A crash loses at
   * most that much of last-seen, which only says an agent was seen a second earlier than it was.
   */
  touchAgent(name: string, at: string): void {
    this.#seen.set(name, at);
    this.#armSeen();
  }

  #armSeen(): void {
    if (this.#seenTimer !== undefined) return;
    // A write the database refuses (locked past busy_timeout) is tried again with the next batch:
    // thrown from a timer it would end the process.
    this.#seenTimer = setTimeout(() => {
      try {
        this.flushSeen();
      } catch {
        this.#armSeen();
      }
    }, SEEN_FLUSH_MS);
    this.#seenTimer.unref?.();
  }

  /**
   * Writes the last-seen times touchAgent holds (an agent deleted meanwhile is skipped: no row).
   * They leave memory only once committed: a refused write throws and keeps them.
   */
  flushSeen(): void {
    clearTimeout(this.#seenTimer);
    this.#seenTimer = undefined;
    if (this.#seen.size === 0) return;
    const seen = [...this.#seen];
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      for (const [name, at] of seen) statement(this.#db, 'UPDATE agents SET last_seen_at = ? WHERE name = ?').run(at, name);
      this.#db.exec('COMMIT');
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw err;
    }
    // Touched again while this was written (not possible today: all synchronous): kept for the next batch.
    for (const [name, at] of seen) if (this.#seen.get(name) === at) this.#seen.delete(name);
  }
}
