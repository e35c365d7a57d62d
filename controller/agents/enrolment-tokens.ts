// Enrolment tokens, the token implementation of AgentAuthenticator. Tokens issued through the
// admin API are stored hashed (SHA-256; the token is shown once), each scoped to a namespace
// and optionally to named AppBindings, and can be revoked; configured tokens (chart file,
// edge bootstrap variable) join them.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { bearer, sha256 } from '../api/http-util.ts';
import type { IncomingMessage } from 'node:http';
import type { DatabaseSync } from 'node:sqlite';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { SqliteStore } from '../store/sqlite-store.ts';
import { ALL_NAMESPACES } from './agent-scope.ts';
import type { AgentAuthenticator, AgentScope } from './agent-scope.ts';
import type { ConfiguredAgentToken } from './configured-tokens.ts';
import { statement } from '../store/statement-cache.ts';

export interface AgentTokenView {
  id: string;
  namespace: string;
  targets?: string[];
  description?: string;
  source: 'api' | 'env' | 'file';
  createdAt?: string;
  revokedAt?: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS agent_tokens (
  id TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL UNIQUE, namespace TEXT NOT NULL, targets TEXT,
  description TEXT, created_at TEXT NOT NULL, revoked_at TEXT
);
`;


function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

export class EnrolmentTokens implements AgentAuthenticator {
  readonly #db: DatabaseSync;
  readonly #configured: readonly ConfiguredAgentToken[];

  constructor(store: SqliteStore, configured: readonly ConfiguredAgentToken[], log: Logger) {
    this.#db = store.db;
    this.#db.exec(SCHEMA);
    this.#configured = configured;
    for (const t of configured) {
      if (t.namespace === ALL_NAMESPACES) log.warn('an agent enrolment token is valid for every namespace: any agent holding it can register for any AppBinding', { id: t.id, source: t.source });
    }
  }

  /** Issues a token; the plaintext is returned here only. */
  issue(namespace: string, targets: string[] | undefined, description: string | undefined, now = new Date()): { token: string; view: AgentTokenView } {
    const id = `at-${randomBytes(6).toString('hex')}`;
    const token = `sidestash-agent-${randomBytes(32).toString('base64url')}`;
    const createdAt = now.toISOString();
    statement(this.#db, 'INSERT INTO agent_tokens (id, token_sha256, namespace, targets, description, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, sha256(token), namespace, targets ? JSON.stringify(targets) : null, description ?? null, createdAt);
    return { token, view: this.#get(id)! };
  }

  #row(r: Record<string, string | null>): AgentTokenView {
    const v: AgentTokenView = { id: r.id!, namespace: r.namespace!, source: 'api', createdAt: r.created_at! };
    if (r.targets) v.targets = JSON.parse(r.targets) as string[];
    if (r.description) v.description = r.description;
    if (r.revoked_at) v.revokedAt = r.revoked_at;
    return v;
  }

  #get(id: string): AgentTokenView | undefined {
    const r = statement(this.#db, 'SELECT * FROM agent_tokens WHERE id = ?').get(id) as Record<string, string | null> | undefined;
    return r && this.#row(r);
  }

  list(): AgentTokenView[] {
    const configured = this.#configured.map((t): AgentTokenView => ({ id: t.id, namespace: t.namespace, ...(t.targets ? { targets: t.targets } : {}), source: t.source }));
    const issued = (statement(this.#db, 'SELECT * FROM agent_tokens ORDER BY created_at, id').all() as Record<string, string | null>[]).map((r) => this.#row(r));
    return [...configured, ...issued];
  }

  /** Revokes an issued token; agents enrolled with it lose access at their next call. */
  revoke(id: string, now = new Date()): AgentTokenView {
    if (this.#configured.some((t) => t.id === id)) {
      throw new SidestashError(ErrorCodes.CONFLICT, `agent token ${id} is configured (environment or tokens file), not issued by the API: remove it there and restart the controller`);
    }
    const existing = this.#get(id);
    if (!existing) throw new SidestashError(ErrorCodes.NOT_FOUND, `agent token ${id} not found`);
    if (!existing.revokedAt) statement(this.#db, 'UPDATE agent_tokens SET revoked_at = ? WHERE id = ?').run(now.toISOString(), id);
    return this.#get(id)!;
  }

  async authenticate(req: IncomingMessage): Promise<AgentScope | undefined> {
    const token = bearer(req);
    if (!token) return undefined;
    const hash = sha256(token);
    let found: AgentScope | undefined;
    for (const t of this.#configured) {
      if (sameHash(hash, t.tokenSha256) && !found) found = { namespace: t.namespace, ...(t.targets ? { targets: t.targets } : {}), credentialId: configuredCredentialId(t) };
    }
    if (found) return found;
    const r = statement(this.#db, 'SELECT * FROM agent_tokens WHERE token_sha256 = ? AND revoked_at IS NULL').get(hash) as Record<string, string | null> | undefined;
    if (!r) return undefined;
    const v = this.#row(r);
    return { namespace: v.namespace, ...(v.targets ? { targets: v.targets } : {}), credentialId: `token:${v.id}` };
  }

  isActive(credentialId: string): boolean {
    if (!credentialId.startsWith('token:')) return false;
    const id = credentialId.slice('token:'.length);
    // A configured token is active while the same token with the same scope is configured: a
    // changed hash, namespace or target list under the same id cuts off what the old one enrolled.
    if (this.#configured.some((t) => configuredCredentialId(t) === credentialId)) return true;
    if (this.#configured.some((t) => id.startsWith(`${t.id}@`))) return false;
    const v = this.#get(id);
    return v !== undefined && v.revokedAt === undefined;
  }
}

/** A configured token's credential: its id, bound to its hash and scope. */
function configuredCredentialId(t: { id: string; tokenSha256: string; namespace: string; targets?: readonly string[] | undefined }): string {
  const fingerprint = sha256(JSON.stringify([t.tokenSha256, t.namespace, t.targets ?? null])).slice(0, 16);
  return `token:${t.id}@${fingerprint}`;
}
