// Agent identity in Kubernetes mode: an agent presents its projected ServiceAccount token
// (audience "sidestash", bound to its pod). The controller has the API server verify it
// (TokenReview), takes the namespace, ServiceAccount and pod from the review (never from the
// agent), reads that pod, and grants exactly the AppBindings its sidestash.io/target annotation
// names, in its own namespace. Refused: a token for another audience, not bound to a pod, of a
// deleted (or re-created) pod, of a pod running as another ServiceAccount, or of a pod without
// the annotation. The decision is pure (decideAgentIdentity), tested on a table.
import type { IncomingMessage } from 'node:http';
import { ErrorCodes, SidestashError, errorMessage, isSidestashError } from '../../common/errors.ts';
import { createLogger } from '../../common/log.ts';
import type { Logger } from '../../common/log.ts';
import { APPBINDING_PATTERN, NAMESPACE_PATTERN } from '../agents/agent-scope.ts';
import type { AgentAuthenticator, AgentScope } from '../agents/agent-scope.ts';
import { bearer } from '../api/http-util.ts';
import type { KubeClient } from './kube-client.ts';
import { Pods, TokenReviews } from './resource-type.ts';
import { FailedVerifications, isJwtShaped } from './token-review-guard.ts';
import type { KubeObject } from './resource-type.ts';

export const AGENT_AUDIENCE = 'sidestash';
export const TARGET_ANNOTATION = 'sidestash.io/target';
const POD_NAME_EXTRA = 'authentication.kubernetes.io/pod-name';
const POD_UID_EXTRA = 'authentication.kubernetes.io/pod-uid';
const SA_USER = /^system:serviceaccount:([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?):([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)$/;

export interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  audiences?: string[];
  error?: string;
}

export interface PodLike extends KubeObject {
  spec?: { serviceAccountName?: string };
}

export interface AgentIdentity {
  namespace: string;
  serviceAccount: string;
  pod: string;
  podUid: string;
  /** AppBinding names (in `namespace`) the pod is annotated to serve. */
  targets: string[];
}

export type IdentityDecision = { ok: true; identity: AgentIdentity } | { ok: false; code: typeof ErrorCodes.UNAUTHORIZED | typeof ErrorCodes.FORBIDDEN; reason: string };

const single = (extra: Record<string, string[]> | undefined, key: string): string | undefined => {
  const v = extra?.[key];
  return Array.isArray(v) && v.length === 1 && typeof v[0] === 'string' && v[0] !== '' ? v[0] : undefined;
};

/** Who the pod named by the review is and what it may serve; `pod` undefined: it does not exist. */
export function decideAgentIdentity(review: TokenReviewStatus, pod: PodLike | undefined, audience = AGENT_AUDIENCE): IdentityDecision {
  const no = (reason: string, code: typeof ErrorCodes.UNAUTHORIZED | typeof ErrorCodes.FORBIDDEN = ErrorCodes.UNAUTHORIZED): IdentityDecision => ({ ok: false, code, reason });
  if (review.authenticated !== true) return no(`the token was not accepted${review.error ? `: ${review.error.slice(0, 200)}` : ''}`);
  if (!Array.isArray(review.audiences) || !review.audiences.includes(audience)) return no(`the token is not for audience ${JSON.stringify(audience)}`);
  const m = SA_USER.exec(review.user?.username ?? '');
  if (!m) return no('the token is not a ServiceAccount token');
  const [namespace, serviceAccount] = [m[1]!, m[3]!];
  const podName = single(review.user?.extra, POD_NAME_EXTRA);
  const podUid = single(review.user?.extra, POD_UID_EXTRA);
  if (!podName || !podUid) return no('the token is not bound to a pod (use a projected ServiceAccount token)');
  if (!pod) return no(`pod ${namespace}/${podName} does not exist`);
  if (pod.metadata.uid !== podUid || pod.metadata.name !== podName || pod.metadata.namespace !== namespace) return no(`pod ${namespace}/${podName} is not the pod the token was issued to`);
  if (pod.metadata.deletionTimestamp) return no(`pod ${namespace}/${podName} is being deleted`);
  if ((pod.spec?.serviceAccountName ?? 'default') !== serviceAccount) return no(`pod ${namespace}/${podName} does not run as ServiceAccount ${serviceAccount}`);
  const annotation = pod.metadata.annotations?.[TARGET_ANNOTATION];
  const targets = (annotation ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  if (targets.length === 0) return no(`pod ${namespace}/${podName} has no ${TARGET_ANNOTATION} annotation naming the AppBindings it serves`, ErrorCodes.FORBIDDEN);
  const bad = targets.find((t) => !APPBINDING_PATTERN.test(t));
  if (bad !== undefined) return no(`pod ${namespace}/${podName}: ${TARGET_ANNOTATION} ${JSON.stringify(bad.slice(0, 100))} is not an AppBinding name`, ErrorCodes.FORBIDDEN);
  if (!NAMESPACE_PATTERN.test(namespace)) return no('not a namespace');
  return { ok: true, identity: { namespace, serviceAccount, pod: podName, podUid, targets: [...new Set(targets)] } };
}

/**
 * The AgentAuthenticator of Kubernetes mode. The credential an agent enrolled with is its pod
 * (serviceaccount:ns/pod@uid); it stays active for reverifyMs (default 10 minutes), after which
 * the agent registers again with its current (rotated) token, so a deleted pod or a changed
 * annotation takes effect within that time.
 */
export class ServiceAccountAuthenticator implements AgentAuthenticator {
  readonly #client: KubeClient;
  readonly #audience: string;
  readonly #reverifyMs: number;
  readonly #verified = new Map<string, number>();
  readonly #log: Logger;
  readonly #failed: FailedVerifications;

  /** `now`: the clock of the failed-verification limit (token-review-guard.ts). */
  constructor(client: KubeClient, options: { audience?: string; reverifyMs?: number; log?: Logger; now?: () => number } = {}) {
    this.#client = client;
    this.#audience = options.audience ?? AGENT_AUDIENCE;
    this.#reverifyMs = options.reverifyMs ?? 10 * 60_000;
    this.#log = options.log ?? createLogger({ component: 'agent-identity' });
    this.#failed = new FailedVerifications(options.now);
  }

  /** Verifies a token; the identity, or UNAUTHORIZED/FORBIDDEN with the reason. */
  async verify(token: string, signal?: AbortSignal): Promise<AgentIdentity> {
    const review = await this.#client.request<{ status?: TokenReviewStatus }>('POST', `/apis/${TokenReviews.group}/${TokenReviews.version}/${TokenReviews.plural}`, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [this.#audience] } },
      signal,
    });
    const status = review?.status ?? {};
    let pod: PodLike | undefined;
    const m = SA_USER.exec(status.user?.username ?? '');
    const podName = single(status.user?.extra, POD_NAME_EXTRA);
    if (status.authenticated === true && m && podName) {
      try {
        pod = await this.#client.get<PodLike>(Pods, m[1]!, podName, signal);
      } catch (err) {
        if (!isSidestashError(err, ErrorCodes.NOT_FOUND)) throw err;
      }
    }
    const decision = decideAgentIdentity(status, pod, this.#audience);
    if (!decision.ok) throw new SidestashError(decision.code, `agent identity refused: ${decision.reason}`);
    return decision.identity;
  }

  async authenticate(req: IncomingMessage): Promise<AgentScope | undefined> {
    const token = bearer(req);
    if (!token) return undefined;
    // No TokenReview for what cannot be a ServiceAccount token, nor for an address that keeps failing.
    if (!isJwtShaped(token)) return undefined;
    const address = req.socket?.remoteAddress ?? '';
    if (!this.#failed.allows(address)) {
      this.#log.warn('agent token not verified: too many failed verifications from this address', { address });
      return undefined;
    }
    try {
      const id = await this.verify(token);
      const credentialId = `serviceaccount:${id.namespace}/${id.pod}@${id.podUid}`;
      const nowMs = Date.now();
      this.#verified.set(credentialId, nowMs);
      if (this.#verified.size > 10_000) for (const [k, at] of this.#verified) if (nowMs - at >= this.#reverifyMs) this.#verified.delete(k);
      return { namespace: id.namespace, targets: id.targets, credentialId, name: id.pod };
    } catch (err) {
      if (isSidestashError(err, ErrorCodes.UNAUTHORIZED) || isSidestashError(err, ErrorCodes.FORBIDDEN)) {
        this.#failed.failed(address);
        this.#log.warn('agent token refused', { reason: errorMessage(err), address });
        return undefined;
      }
      throw err;
    }
  }

  isActive(credentialId: string): boolean {
    const at = this.#verified.get(credentialId);
    return at !== undefined && Date.now() - at < this.#reverifyMs;
  }
}
