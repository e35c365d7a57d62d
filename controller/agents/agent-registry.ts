// Agent enrolment and authentication. An agent is "namespace/name". Registration presents a
// credential (AgentAuthenticator: an enrolment token today), which grants a scope; the agent's
// namespace must match it and the targets it asks for must lie inside it; the controller
// records the granted targets, issues a per-agent token (stored hashed) and remembers which
// credential enrolled the agent, so that revoking the credential cuts the agent off.
// A live agent's name is not taken over (decideRegistration).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { bearer, sha256 } from '../api/http-util.ts';
import type { IncomingMessage } from 'node:http';
import type { DatabaseSync } from 'node:sqlite';
import { agentKey } from '../../common/agent-paths.ts';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { AgentRegistration } from '../../common/protocol.ts';
import { stripTerminalControls } from '../../common/terminal-text.ts';
import type { SessionManager } from '../sessions/session-manager.ts';
import type { AgentRecord } from '../store/agent-directory.ts';
import type { SqliteStore } from '../store/sqlite-store.ts';
import { AGENT_NAME_PATTERN, APPBINDING_PATTERN, NAMESPACE_PATTERN, checkAgentName, decideRegistration, grantTargets } from './agent-scope.ts';
import type { AgentAuthenticator } from './agent-scope.ts';
import { recordsSeen } from './agent-online.ts';
import { statement } from '../store/statement-cache.ts';

const MAX_TARGETS = 64;

interface RegisterBody {
  name: string;
  namespace: string;
  targets: string[];
  version: string;
  currentToken?: string;
}

/** Checks a registration body field by field; unknown fields are ignored. */
export function parseRegisterBody(body: unknown): RegisterBody {
  const problems: string[] = [];
  const r = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  if (typeof r.name !== 'string' || !AGENT_NAME_PATTERN.test(r.name)) problems.push('name: must be a lowercase DNS name');
  if (typeof r.namespace !== 'string' || !NAMESPACE_PATTERN.test(r.namespace)) problems.push('namespace: must be a namespace name (the agent\'s own)');
  const targetOk = (t: unknown): boolean => typeof t === 'string' && t.split('/').length === 2 && NAMESPACE_PATTERN.test(t.split('/')[0]!) && APPBINDING_PATTERN.test(t.split('/')[1]!);
  if (!Array.isArray(r.targets) || r.targets.length === 0 || r.targets.length > MAX_TARGETS || !r.targets.every(targetOk)) problems.push(`targets: must be a list of 1 to ${MAX_TARGETS} "namespace/appbinding"`);
  if (r.version !== undefined && (typeof r.version !== 'string' || r.version.length > 64)) problems.push('version: must be a string of at most 64 characters');
  if (r.currentToken !== undefined && (typeof r.currentToken !== 'string' || r.currentToken.length > 256)) problems.push('currentToken: must be a string');
  if (problems.length > 0) throw new SidestashError(ErrorCodes.VALIDATION_FAILED, problems.join('; '), { details: { errors: problems } });
  const out: RegisterBody = { name: r.name as string, namespace: r.namespace as string, targets: r.targets as string[], version: stripTerminalControls((r.version as string | undefined) ?? 'unknown') };
  if (r.currentToken !== undefined) out.currentToken = r.currentToken as string;
  return out;
}

function unauthorized(message: string): SidestashError {
  return new SidestashError(ErrorCodes.UNAUTHORIZED, message);
}

export class AgentRegistry {
  readonly #store: SqliteStore;
  readonly #db: DatabaseSync;
  readonly #sessions: SessionManager;
  readonly #auth: AgentAuthenticator;
  readonly #leaseMs: number;
  readonly #log: Logger;

  constructor(store: SqliteStore, sessions: SessionManager, auth: AgentAuthenticator, leaseMs: number, log: Logger) {
    this.#store = store;
    this.#db = store.db;
    this.#db.exec('CREATE TABLE IF NOT EXISTS agent_enrolments (agent TEXT PRIMARY KEY, credential_id TEXT NOT NULL)');
    // Agents registered before identities were namespace/name can never authenticate again.
    this.#db.exec("DELETE FROM agents WHERE instr(name, '/') = 0");
    this.#sessions = sessions;
    this.#auth = auth;
    this.#leaseMs = leaseMs;
    this.#log = log;
  }

  /**
   * `readBody` is called only once the enrolment token is accepted: an unauthenticated client
   * never gets to hold a connection busy by trickling a body (it would count as in use
   * against the listener's connection cap).
   */
  async register(req: IncomingMessage, readBody: () => Promise<unknown>, nowMs = Date.now()): Promise<AgentRegistration> {
    const scope = await this.#auth.authenticate(req);
    if (!scope) throw unauthorized('a valid agent enrolment token is required');
    const r = parseRegisterBody(await readBody());
    const targets = grantTargets(scope, r.namespace, r.targets);
    checkAgentName(scope, r.name);
    const key = agentKey(r);
    // No await from the decision to the agent's write: they happen together.
    const existing = this.#store.getAgent(key);
    const decision = decideRegistration(existing, r.currentToken === undefined ? undefined : sha256(r.currentToken), nowMs, this.#leaseMs);
    if (!decision.allow) {
      this.#log.warn('agent registration refused', { agent: key, credential: scope.credentialId, reason: decision.reason });
      throw new SidestashError(ErrorCodes.CONFLICT, `agent ${key}: ${decision.reason}`);
    }
    const token = randomBytes(32).toString('base64url');
    const now = new Date(nowMs).toISOString();
    this.#store.putAgent({ name: key, tokenSha256: sha256(token), targets, version: r.version, registeredAt: now, lastSeenAt: now });
    statement(this.#db, 'INSERT INTO agent_enrolments (agent, credential_id) VALUES (?, ?) ON CONFLICT(agent) DO UPDATE SET credential_id = excluded.credential_id').run(key, scope.credentialId);
    // Whatever an earlier process of this agent was running cannot finish any more (the new one
    // holds its token only once this returns, so it has claimed nothing yet). The same process
    // (it presented its current agent token: its credential expired, or a new leader asked it to
    // register) keeps its sessions and reports them.
    if (existing && decision.why !== 'same-agent') await this.#sessions.failSessionsOfAgent(key, `agent ${key} registered again while the session was running`);
    this.#log.info('agent registered', { agent: key, targets, credential: scope.credentialId, how: decision.why });
    return { name: r.name, namespace: r.namespace, targets, token, heartbeatIntervalMs: Math.floor(this.#leaseMs / 3), leaseMs: this.#leaseMs };
  }

  /** An agent that stops cleanly gives its name back: a restart then registers at once. */
  async deregister(agent: AgentRecord): Promise<void> {
    await this.#sessions.failSessionsOfAgent(agent.name, `agent ${agent.name} stopped while the session was running`);
    statement(this.#db, 'DELETE FROM agents WHERE name = ?').run(agent.name);
    statement(this.#db, 'DELETE FROM agent_enrolments WHERE agent = ?').run(agent.name);
    this.#log.info('agent deregistered', { agent: agent.name });
  }

  /**
   * Forgets every registered agent (Kubernetes mode, when this replica starts or stops leading).
   * A leader knows only the agents that registered in its own term: one kept from an earlier
   * term holds an agent token the agent has since replaced (it registered with the leader in
   * between), so its registration now would be refused as "live", and later taken as a
   * restart that fails the agent's running sessions (A -> B -> A).
   */
  forgetAll(): void {
    this.#db.exec('DELETE FROM agents');
    this.#db.exec('DELETE FROM agent_enrolments');
  }

  /** The credential that enrolled agent "namespace/name" (e.g. "token:at-…"), for listings. */
  credentialOf(key: string): string | undefined {
    return (statement(this.#db, 'SELECT credential_id FROM agent_enrolments WHERE agent = ?').get(key) as { credential_id: string } | undefined)?.credential_id;
  }

  /** The agent namespace/name, if the request carries its agent token and its credential is still valid. */
  authenticate(req: IncomingMessage, namespace: string, name: string, nowMs = Date.now()): AgentRecord {
    const key = agentKey({ namespace, name });
    const agent = this.#store.getAgent(key);
    const presented = bearer(req);
    if (!agent || !presented || !timingSafeEqual(Buffer.from(sha256(presented), 'hex'), Buffer.from(agent.tokenSha256, 'hex'))) throw unauthorized('a valid agent token is required');
    const credential = this.credentialOf(key);
    if (!credential || !this.#auth.isActive(credential)) throw unauthorized(`the credential agent ${key} enrolled with is no longer valid; register again`);
    if (recordsSeen(agent, nowMs, this.#leaseMs)) this.#store.touchAgent(key, new Date(nowMs).toISOString());
    return agent;
  }
}
