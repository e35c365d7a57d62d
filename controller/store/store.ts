// The embedded state store (node:sqlite): resources, agents and the next resource version,
// in one file so that state survives restarts. Writes are single statements or explicit
// transactions; the controller is the only writer.
import { randomUUID } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import type { Kind, Resource } from '../resources/types.ts';
import { prepareDatabaseFiles, tightenDatabaseFiles } from './db-files.ts';
import { resolveSecretCipher } from './encryption-key.ts';
import type { ConfiguredKey } from './encryption-key.ts';
import type { SecretCipher } from './secret-cipher.ts';
import { SEALED_KIND, sealSecretsAtRest } from './secret-sealing.ts';

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

export interface StoreOptions {
  /** The key that seals Secret documents at rest; default: the key file beside the database (encryption-key.ts). */
  encryptionKey?: ConfiguredKey;
}

export class Store {
  readonly #db: DatabaseSync;
  readonly #cipher: SecretCipher;
  /** For the log: files whose modes could not be tightened, a key file created now, plaintext Secrets sealed now. */
  readonly opened: { modeProblems: string[]; keyFileCreated?: string; secretsSealed: number };

  constructor(path: string, options: StoreOptions = {}) {
    const modeProblems = path === ':memory:' ? [] : prepareDatabaseFiles(path);
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
    this.#db.exec(SCHEMA);
    if (path !== ':memory:') tightenDatabaseFiles(path, modeProblems);
    try {
      const { cipher, generatedFile } = resolveSecretCipher(path, options.encryptionKey);
      this.#cipher = cipher;
      this.opened = { modeProblems, ...(generatedFile ? { keyFileCreated: generatedFile } : {}), secretsSealed: sealSecretsAtRest(this.#db, cipher) };
    } catch (err) {
      this.#db.close();
      throw err;
    }
  }

  /** The stored form of a document: Secrets sealed with their row identity, the rest as JSON. */
  #encode(kind: string, namespace: string, name: string, json: string): string {
    return kind === SEALED_KIND ? this.#cipher.seal({ kind, namespace, name }, json) : json;
  }

  #decode<S, T>(kind: string, namespace: string, name: string, doc: string): Resource<S, T> {
    return JSON.parse(kind === SEALED_KIND ? this.#cipher.open({ kind, namespace, name }, doc) : doc) as Resource<S, T>;
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
    return row ? this.#decode<S, T>(kind, namespace, name, row.doc) : undefined;
  }

  list<S, T>(kind: Kind, namespace?: string): Resource<S, T>[] {
    const rows = (namespace === undefined
      ? this.#db.prepare('SELECT namespace, name, doc FROM resources WHERE kind = ? ORDER BY namespace, name').all(kind)
      : this.#db.prepare('SELECT namespace, name, doc FROM resources WHERE kind = ? AND namespace = ? ORDER BY name').all(kind, namespace)) as { namespace: string; name: string; doc: string }[];
    return rows.map((r) => this.#decode<S, T>(kind, r.namespace, r.name, r.doc));
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
      .run(doc.kind, doc.metadata.namespace, doc.metadata.name, this.#encode(doc.kind, doc.metadata.namespace, doc.metadata.name, JSON.stringify(doc)), doc.metadata.resourceVersion!);
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
