// The embedded state store (node:sqlite): resources, agents (sqlite-agents.ts) and the next
// resource version, in one file so that state survives restarts; the controller is the only
// writer. Implements the resource store (resource-store.ts): each write checks its precondition
// and writes in one transaction, resourceVersion is a global counter (shown as a string),
// applyBatch is atomic, and listeners hear of a write after its commit. Secrets are sealed at
// rest (secret-sealing.ts).
import { randomUUID } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import { matchesLabels, parseLabelSelector } from '../../common/label-selector.ts';
import type { Kind, Resource } from '../resources/types.ts';
import type { AgentDirectory, AgentRecord } from './agent-directory.ts';
import { prepareDatabaseFiles, tightenDatabaseFiles } from './db-files.ts';
import { resolveSecretCipher } from './encryption-key.ts';
import type { ConfiguredKey } from './encryption-key.ts';
import type { BatchWrite, ListOptions, Precondition, ResourceEvent, ResourceListener, ResourceStore } from './resource-store.ts';
import type { SecretCipher } from './secret-cipher.ts';
import { SEALED_KIND, sealSecretsAtRest } from './secret-sealing.ts';
import { hasListFields, matchesListFields } from './list-fields.ts';
import { decodedPage } from './decoded-page.ts';
import { FIELD_INDEXES, indexedField } from './indexed-fields.ts';
import { forgetStatements, statement } from './statement-cache.ts';
import { SqliteAgents } from './sqlite-agents.ts';

export { SEEN_FLUSH_MS } from './sqlite-agents.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS resources (
  kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
  doc TEXT NOT NULL, resource_version INTEGER NOT NULL,
  PRIMARY KEY (kind, namespace, name)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

export interface StoreOptions {
  /** The key that seals Secret documents at rest; default: the key file beside the database (encryption-key.ts). */
  encryptionKey?: ConfiguredKey;
}

type AnyResource = Resource<unknown, unknown>;

type Row = { namespace: string; name: string; doc: string; resource_version: number | bigint };

const what = (r: { kind: string; metadata: { namespace: string; name: string } }): string => `${r.kind} ${r.metadata.namespace}/${r.metadata.name}`;

export class SqliteStore implements ResourceStore, AgentDirectory {
  readonly #db: DatabaseSync;
  readonly #cipher: SecretCipher;
  readonly #listeners = new Set<ResourceListener>();
  readonly #agents: SqliteAgents;
  readonly atomicBatches = true;
  /** For the log: files whose modes could not be tightened, a key file created now, plaintext Secrets sealed now. */
  readonly opened: { modeProblems: string[]; keyFileCreated?: string; secretsSealed: number };

  constructor(path: string, options: StoreOptions = {}) {
    const modeProblems = path === ':memory:' ? [] : prepareDatabaseFiles(path);
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
    this.#db.exec(SCHEMA);
    this.#db.exec(FIELD_INDEXES);
    this.#agents = new SqliteAgents(this.#db);
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

  /** The database, for modules that keep their own tables here (controller/agents): sqlite only. */
  get db(): DatabaseSync {
    return this.#db;
  }

  close(): void {
    try {
      this.#agents.flushSeen();
    } finally {
      // Closed even when the last batch cannot be written (the database locked): that batch is lost.
      this.#listeners.clear();
      forgetStatements(this.#db);
      this.#db.close();
    }
  }

  /** The prepared statement for `sql` (statement-cache.ts: every SQL text here is a literal or one of list's few combinations). */
  #stmt(sql: string): StatementSync {
    return statement(this.#db, sql);
  }

  /** The stored form of a document: Secrets sealed with their row identity, the rest as JSON. */
  #encode(r: AnyResource): string {
    const json = JSON.stringify(r);
    return r.kind === SEALED_KIND ? this.#cipher.seal({ kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name }, json) : json;
  }

  /** A stored row as a resource; its resourceVersion is the row's (documents before 0.x kept a number). */
  #decode<S, T>(kind: string, row: Row): Resource<S, T> {
    const json = kind === SEALED_KIND ? this.#cipher.open({ kind, namespace: row.namespace, name: row.name }, row.doc) : row.doc;
    const r = JSON.parse(json) as Resource<S, T>;
    r.metadata.resourceVersion = String(row.resource_version);
    return r;
  }

  #row(kind: Kind, namespace: string, name: string): Row | undefined {
    return this.#stmt('SELECT namespace, name, doc, resource_version FROM resources WHERE kind = ? AND namespace = ? AND name = ?').get(kind, namespace, name) as Row | undefined;
  }

  #current(kind: Kind, namespace: string, name: string): AnyResource | undefined {
    const row = this.#row(kind, namespace, name);
    return row ? this.#decode(kind, row) : undefined;
  }

  #nextVersion(): string {
    const row = this.#stmt(`INSERT INTO meta (key, value) VALUES ('resourceVersion', '1')
      ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING value`).get() as { value: string | number };
    return String(row.value);
  }

  /**
   * Runs `fn` in one transaction; listeners hear of its writes after the commit only. relaxed:
   * committed without syncing the WAL (synchronous = NORMAL for it alone): a WAL is written in
   * order, so the next synced commit makes it durable too.
   */
  #transaction<T>(fn: (events: ResourceEvent[]) => T, relaxed = false): T {
    const events: ResourceEvent[] = [];
    if (relaxed) this.#db.exec('PRAGMA synchronous = NORMAL');
    let out: T;
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        out = fn(events);
        this.#db.exec('COMMIT');
      } catch (err) {
        this.#db.exec('ROLLBACK');
        throw err;
      }
    } finally {
      if (relaxed) this.#db.exec('PRAGMA synchronous = FULL');
    }
    for (const e of events) this.#emit(e);
    return out;
  }

  #emit(event: ResourceEvent): void {
    for (const l of [...this.#listeners]) {
      try {
        l(event);
      } catch {
        // A listener's failure is its own: the write is stored.
      }
    }
  }

  #write<S, T>(r: Resource<S, T>): Resource<S, T> {
    const doc: Resource<S, T> = { ...r, metadata: { ...r.metadata, resourceVersion: this.#nextVersion() } };
    this
      .#stmt(`INSERT INTO resources (kind, namespace, name, doc, resource_version) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(kind, namespace, name) DO UPDATE SET doc = excluded.doc, resource_version = excluded.resource_version`)
      .run(doc.kind, doc.metadata.namespace, doc.metadata.name, this.#encode(doc as AnyResource), Number(doc.metadata.resourceVersion));
    return doc;
  }

  #create<S, T>(resource: Resource<S, T>, events: ResourceEvent[]): Resource<S, T> {
    if (this.#row(resource.kind, resource.metadata.namespace, resource.metadata.name)) {
      throw new SidestashError(ErrorCodes.CONFLICT, `${what(resource)} already exists`, { details: { reason: 'AlreadyExists' } });
    }
    const stored = this.#write({
      ...resource,
      metadata: { ...resource.metadata, uid: randomUUID(), creationTimestamp: resource.metadata.creationTimestamp ?? new Date().toISOString() },
    });
    events.push({ type: 'ADDED', resource: stored as AnyResource });
    return stored;
  }

  /** The stored object `resource` names, if its version is `ifVersion`: else NOT_FOUND or CONFLICT (retryable). */
  #expect(resource: { kind: Kind; metadata: { namespace: string; name: string } }, ifVersion: string | undefined): AnyResource {
    const cur = this.#current(resource.kind, resource.metadata.namespace, resource.metadata.name);
    if (!cur) throw new SidestashError(ErrorCodes.NOT_FOUND, `${what(resource)} not found`);
    if (ifVersion !== undefined && cur.metadata.resourceVersion !== ifVersion) {
      throw new SidestashError(ErrorCodes.CONFLICT, `${what(resource)} was changed meanwhile (version ${cur.metadata.resourceVersion}, not ${ifVersion}); read it again`, { retryable: true, details: { reason: 'StaleVersion' } });
    }
    return cur;
  }

  #update<S, T>(resource: Resource<S, T>, ifVersion: string, events: ResourceEvent[]): Resource<S, T> {
    const cur = this.#expect(resource, ifVersion);
    const next = { ...resource, metadata: { ...resource.metadata, uid: cur.metadata.uid, creationTimestamp: cur.metadata.creationTimestamp } } as Resource<S, T>;
    delete next.status;
    if (cur.status !== undefined) next.status = cur.status as T;
    const stored = this.#write(next);
    events.push({ type: 'MODIFIED', resource: stored as AnyResource });
    return stored;
  }

  async get<S = Record<string, unknown>, T = Record<string, unknown>>(kind: Kind, namespace: string, name: string): Promise<Resource<S, T> | undefined> {
    return this.#current(kind, namespace, name) as Resource<S, T> | undefined;
  }

  async exists(kind: Kind, namespace: string, name: string): Promise<boolean> {
    return (await this.get(kind, namespace, name)) !== undefined;
  }

  async list<S = Record<string, unknown>, T = Record<string, unknown>>(kind: Kind, options: ListOptions = {}): Promise<Resource<S, T>[]> {
    const selector = options.labelSelector ? parseLabelSelector(options.labelSelector) : undefined;
    // The field filters in SQL (json_extract), so that the rows they leave out are never decoded;
    // sealed documents are not JSON at rest: filtered once decoded.
    const inSql = kind !== SEALED_KIND;
    const where = ['kind = ?'];
    const params: (string | number)[] = [kind];
    if (options.namespace !== undefined) (where.push('namespace = ?'), params.push(options.namespace));
    if (inSql && options.phases !== undefined) (where.push("json_extract(doc, '$.status.phase') IN (SELECT value FROM json_each(?))"), params.push(JSON.stringify(options.phases)));
    if (inSql && options.invoker !== undefined) (where.push(`${indexedField('$.spec.invoker.name')} = ?`), params.push(options.invoker));
    if (inSql && options.readDataCheckPendingSession !== undefined) (where.push(`${indexedField('$.status.readDataCheckPending.session')} = ?`), params.push(options.readDataCheckPendingSession));
    const read = (after: ListOptions['after'], limit: number | undefined): Row[] => {
      const w = after === undefined ? where : [...where, '(namespace, name) > (?, ?)'];
      const p = [...params, ...(after === undefined ? [] : [after.namespace, after.name]), ...(limit === undefined ? [] : [limit])];
      return this.#stmt(`SELECT namespace, name, doc, resource_version FROM resources WHERE ${w.join(' AND ')} ORDER BY namespace, name${limit === undefined ? '' : ' LIMIT ?'}`).all(...p) as Row[];
    };
    const filterDecoded = selector !== undefined || (!inSql && hasListFields(options));
    // The page's limit in SQL, unless documents are still to be filtered once decoded.
    if (!filterDecoded) return read(options.after, options.limit).map((r) => this.#decode<S, T>(kind, r));
    const accept = (row: Row): Resource<S, T> | undefined => {
      const r = this.#decode<S, T>(kind, row);
      return (!selector || matchesLabels(selector, r.metadata.labels)) && matchesListFields(r, options) ? r : undefined;
    };
    if (options.limit !== undefined) return decodedPage(options.limit, options.after, read, (row) => ({ namespace: row.namespace, name: row.name }), accept);
    return read(options.after, undefined).flatMap((row) => accept(row) ?? []);
  }

  async create<S, T>(resource: Resource<S, T>): Promise<Resource<S, T>> {
    return this.#transaction((events) => this.#create(resource, events));
  }

  async update<S, T>(resource: Resource<S, T>, precondition: Precondition): Promise<Resource<S, T>> {
    return this.#transaction((events) => this.#update(resource, precondition.ifVersion, events));
  }

  async updateStatus<S, T>(resource: Resource<S, T>, precondition: Precondition): Promise<Resource<S, T>> {
    return this.#transaction((events) => {
      const cur = this.#expect(resource, precondition.ifVersion) as Resource<S, T>;
      const next: Resource<S, T> = { ...cur };
      delete next.status;
      if (resource.status !== undefined) next.status = resource.status;
      const stored = this.#write(next);
      events.push({ type: 'MODIFIED', resource: stored as AnyResource });
      return stored;
    }, precondition.durability === 'relaxed');
  }

  async delete(kind: Kind, namespace: string, name: string, precondition: Partial<Precondition> = {}): Promise<boolean> {
    return this.#transaction((events) => {
      const cur = this.#current(kind, namespace, name);
      if (!cur) return false;
      this.#expect({ kind, metadata: { namespace, name } }, precondition.ifVersion);
      this.#stmt('DELETE FROM resources WHERE kind = ? AND namespace = ? AND name = ?').run(kind, namespace, name);
      events.push({ type: 'DELETED', resource: cur });
      return true;
    }, precondition.durability === 'relaxed');
  }

  async applyBatch(writes: readonly BatchWrite[]): Promise<AnyResource[]> {
    return this.#transaction((events) => writes.map((w) => (w.op === 'create' ? this.#create(w.resource, events) : this.#update(w.resource, w.ifVersion, events))));
  }

  watch(listener: ResourceListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  putAgent(a: AgentRecord): void {
    this.#agents.putAgent(a);
  }

  getAgent(name: string): AgentRecord | undefined {
    return this.#agents.getAgent(name);
  }

  /** Every agent in one query (the sweeps and each /metrics scrape read them all). */
  listAgents(): AgentRecord[] {
    return this.#agents.listAgents();
  }

  /** Records that an agent was seen; written with others at most SEEN_FLUSH_MS later (sqlite-agents.ts). */
  touchAgent(name: string, at: string): void {
    this.#agents.touchAgent(name, at);
  }

  /** Writes the last-seen times touchAgent holds; a refused write throws and keeps them. */
  flushSeen(): void {
    this.#agents.flushSeen();
  }
}
