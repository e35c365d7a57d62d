// What an agent may serve is decided by the controller, not claimed by the agent: a
// credential (today an enrolment token; in Kubernetes mode a ServiceAccount token checked by
// TokenReview) authenticates to a scope, and registration grants only targets inside it.
// The decisions here are pure and tested on tables (agent-scope.test.ts).
import type { IncomingMessage } from 'node:http';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';

/** Namespace value of a scope that covers every namespace (only when configured so, with a warning). */
export const ALL_NAMESPACES = '*';

export interface AgentScope {
  /** The namespace an agent with this credential must be in; ALL_NAMESPACES only when explicitly configured. */
  namespace: string;
  /** AppBinding names (in the agent's namespace) it may serve; undefined: any in the namespace. */
  targets?: string[];
  /** Which credential granted the scope; agents enrolled with it lose access when it is revoked. */
  credentialId: string;
  /** The one name the agent may register under (Kubernetes mode: its pod's); undefined: any. */
  name?: string;
}

/** FORBIDDEN unless the scope lets an agent register as `name`. */
export function checkAgentName(scope: AgentScope, name: string): void {
  if (scope.name !== undefined && scope.name !== name) {
    throw new SidestashError(ErrorCodes.FORBIDDEN, `the credential is pod ${JSON.stringify(scope.name)}'s: the agent must register under that name, not ${JSON.stringify(name)} (SIDESTASH_AGENT_NAME is the pod's name)`);
  }
}

/**
 * The seam for agent identity: a request's credentials in, the scope they grant out.
 * Routes use only this interface, so another implementation (ServiceAccount TokenReview)
 * can replace or join the enrolment tokens without touching them.
 */
export interface AgentAuthenticator {
  /** The scope the request's credentials grant; undefined when they grant nothing. */
  authenticate(req: IncomingMessage): Promise<AgentScope | undefined>;
  /** Whether a credential that enrolled an agent is still valid (checked on every agent call). */
  isActive(credentialId: string): boolean;
}

export const NAMESPACE_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const AGENT_NAME_PATTERN = /^[a-z0-9][-a-z0-9.]{0,252}$/;
export const APPBINDING_PATTERN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * The targets granted to an agent in `namespace` asking for `requested` ("namespace/appbinding"):
 * all of them, or FORBIDDEN naming the first that the scope does not allow. An agent serves
 * only AppBindings of its own namespace.
 */
export function grantTargets(scope: AgentScope, namespace: string, requested: readonly string[]): string[] {
  if (scope.namespace !== ALL_NAMESPACES && scope.namespace !== namespace) {
    throw new SidestashError(ErrorCodes.FORBIDDEN, `the enrolment token is scoped to namespace ${JSON.stringify(scope.namespace)}, not ${JSON.stringify(namespace)}`);
  }
  for (const t of requested) {
    const [ns, name] = t.split('/');
    if (ns !== namespace) throw new SidestashError(ErrorCodes.FORBIDDEN, `target ${JSON.stringify(t)} is outside the agent's namespace ${JSON.stringify(namespace)}`);
    if (scope.targets !== undefined && !scope.targets.includes(name!)) {
      throw new SidestashError(ErrorCodes.FORBIDDEN, `target ${JSON.stringify(t)} is outside the enrolment token's scope (${scope.targets.map((x) => `${namespace}/${x}`).join(', ')})`);
    }
  }
  return [...new Set(requested)];
}

export interface ExistingRegistration {
  tokenSha256: string;
  lastSeenAt: string;
}

export type RegistrationDecision = { allow: true; why: 'new' | 'same-agent' | 'stale' } | { allow: false; reason: string };

/**
 * Whether a registration may take the name namespace/name. A name is free when nobody holds
 * it, when the caller proves it is the holder (it presents the holder's current agent token),
 * or when the holder has not been seen for a whole lease period (a restarted agent comes back
 * then). A second registration under a live agent's name is refused: it is not a takeover.
 */
export function decideRegistration(existing: ExistingRegistration | undefined, presentedTokenSha256: string | undefined, nowMs: number, leaseMs: number): RegistrationDecision {
  if (!existing) return { allow: true, why: 'new' };
  if (presentedTokenSha256 !== undefined && presentedTokenSha256 === existing.tokenSha256) return { allow: true, why: 'same-agent' };
  const lastSeenMs = Date.parse(existing.lastSeenAt);
  if (!Number.isFinite(lastSeenMs) || nowMs - lastSeenMs >= leaseMs) return { allow: true, why: 'stale' };
  const freeInS = Math.ceil((lastSeenMs + leaseMs - nowMs) / 1000);
  return { allow: false, reason: `an agent with this name is live (last seen ${existing.lastSeenAt}); the name can be taken over once it has been silent for the lease period (in ${freeInS}s), or by presenting its current agent token` };
}
