// The embedded state store (node:sqlite): resources, agents and the next resource version,
// in one file so that state survives restarts. Writes are single statements or explicit
// transactions; the controller is the only writer.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Kind, Resource } from '../resources/types.ts';

export interface AgentRecord {
  name: string;
  tokenSha256: string;
  targets: string[];
  version: string;
  registeredAt: string;
  lastSeenAt: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS resources (
  kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
  doc TEXT NOT NULL, resource_version INTEGER NOT NULL,
  PRIMARY KEY (kind, namespace, name)
);
CREATE TABLE IF NOT EXISTS agents (
  name TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL, targets TEXT NOT NULL,
  version TEXT NOT NULL, registered_at TEXT NOT NULL, last_seen_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

export class Store {
  readonly #db: DatabaseSync;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
    this.#db.exec(SCHEMA);
  }

  close(): void {
    this.#db.close();
  }

  /** The database, for modules that keep their own tables here (controller/agents). */
  get db(): DatabaseSync {
    return this.#db;
  }

  #nextVersion(): number {
    const row = this.#db.prepare(`INSERT INTO meta (key, value) VALUES ('resourceVersion', '1')
      ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING value`).get() as { value: string | number };
    return Number(row.value);
  }

  transaction<T>(fn: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.#db.exec('COMMIT');
      return out;
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  get<S, T>(kind: Kind, namespace: string, name: string): Resource<S, T> | undefined {
    const row = this.#db.prepare('SELECT doc FROM resources WHERE kind = ? AND namespace = ? AND name = ?').get(kind, namespace, name) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as Resource<S, T>) : undefined;
  }

  list<S, T>(kind: Kind, namespace?: string): Resource<S, T>[] {
    const rows = (namespace === undefined
      ? this.#db.prepare('SELECT doc FROM resources WHERE kind = ? ORDER BY namespace, name').all(kind)
      : this.#db.prepare('SELECT doc FROM resources WHERE kind = ? AND namespace = ? ORDER BY name').all(kind, namespace)) as { doc: string }[];
    return rows.map((r) => JSON.parse(r.doc) as Resource<S, T>);
  }

  /** Inserts or replaces; assigns uid, creation time and a new resourceVersion. */
  put<S, T>(resource: Resource<S, T>): Resource<S, T> {
    const existing = this.get(resource.kind, resource.metadata.namespace, resource.metadata.name);
    const doc: Resource<S, T> = {
      ...resource,
      metadata: {
        ...resource.metadata,
        uid: existing?.metadata.uid ?? resource.metadata.uid ?? randomUUID(),
        creationTimestamp: existing?.metadata.creationTimestamp ?? resource.metadata.creationTimestamp ?? new Date().toISOString(),
        resourceVersion: this.#nextVersion(),
      },
    };
    this.#db
      .prepare(`INSERT INTO resources (kind, namespace, name, doc, resource_version) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(kind, namespace, name) DO UPDATE SET doc = excluded.doc, resource_version = excluded.resource_version`)
      .run(doc.kind, doc.metadata.namespace, doc.metadata.name, JSON.stringify(doc), doc.metadata.resourceVersion!);
    return doc;
  }

  delete(kind: Kind, namespace: string, name: string): boolean {
    return Number(this.#db.prepare('DELETE FROM resources WHERE kind = ? AND namespace = ? AND name = ?').run(kind, namespace, name).changes) > 0;
  }

  putAgent(a: AgentRecord): void {
    this.#db
      .prepare(`INSERT INTO agents (name, token_sha256, targets, version, registered_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT(name) DO UPDATE SET token_sha256 = excluded.token_sha256, targets = excluded.targets, version = excluded.version,
        registered_at = excluded.registered_at, last_seen_at = excluded.last_seen_at`)
      .run(a.name, a.tokenSha256, JSON.stringify(a.targets), a.version, a.registeredAt, a.lastSeenAt);
  }

  getAgent(name: string): AgentRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM agents WHERE name = ?').get(name) as Record<string, string> | undefined;
    return r && { name: r.name!, tokenSha256: r.token_sha256!, targets: JSON.parse(r.targets!) as string[], version: r.version!, registeredAt: r.registered_at!, lastSeenAt: r.last_seen_at! };
  }

  listAgents(): AgentRecord[] {
    return (this.#db.prepare('SELECT name FROM agents ORDER BY name').all() as { name: string }[]).map((r) => this.getAgent(r.name)!);
  }

  touchAgent(name: string, at: string): void {
    this.#db.prepare('UPDATE agents SET last_seen_at = ? WHERE name = ?').run(at, name);
  }
}
