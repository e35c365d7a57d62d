// Admin API for agent enrolment tokens: issue (the token is in the answer once, stored
// hashed), list (without tokens), revoke. Needs the admin token like every non-agent route.
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import { stripTerminalControls } from '../../common/terminal-text.ts';
import { APPBINDING_PATTERN, NAMESPACE_PATTERN } from '../agents/agent-scope.ts';
import type { Controller } from '../controller.ts';
import { readBody, sendJson } from './http-util.ts';
import { route } from './router.ts';
import type { Route } from './router.ts';

export const AGENT_TOKENS_PATH = '/api/v1/agenttokens';

export interface AgentTokenRequest {
  namespace: string;
  targets?: string[];
  description?: string;
}

/** Checks an issue request; every problem with its field, unknown fields refused. */
export function parseAgentTokenRequest(body: unknown): AgentTokenRequest {
  const errors: { field: string; message: string }[] = [];
  const b = (body && typeof body === 'object' && !Array.isArray(body) ? body : undefined) as Record<string, unknown> | undefined;
  if (!b) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'the body must be a JSON object {namespace, targets?, description?}');
  const { namespace, targets, description, ...rest } = b;
  for (const k of Object.keys(rest)) errors.push({ field: k, message: 'unknown field' });
  if (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace)) errors.push({ field: 'namespace', message: 'must be a namespace name (one namespace per token)' });
  if (targets !== undefined && !(Array.isArray(targets) && targets.length > 0 && targets.length <= 64 && targets.every((t) => typeof t === 'string' && APPBINDING_PATTERN.test(t)))) {
    errors.push({ field: 'targets', message: 'must be a list of 1 to 64 AppBinding names in that namespace' });
  }
  if (description !== undefined && (typeof description !== 'string' || description.length > 256)) errors.push({ field: 'description', message: 'must be a string of at most 256 characters' });
  if (errors.length > 0) throw new SidestashError(ErrorCodes.VALIDATION_FAILED, errors.map((e) => `${e.field}: ${e.message}`).join('; '), { details: { errors } });
  const out: AgentTokenRequest = { namespace: namespace as string };
  if (targets !== undefined) out.targets = [...new Set(targets as string[])];
  if (description !== undefined) out.description = stripTerminalControls(description as string);
  return out;
}

export function agentTokenRoutes(c: Controller): Route[] {
  return [
    route('POST', AGENT_TOKENS_PATH, async ({ req, res }) => {
      // Kubernetes mode has no enrolment tokens: a token issued here would enrol no one.
      if (c.kube) throw new SidestashError(ErrorCodes.INVALID_CONFIG, 'SIDESTASH_STORE=kubernetes: agents authenticate with their pod\'s projected ServiceAccount token (audience sidestash, SIDESTASH_AGENT_TOKEN_FILE); enrolment tokens are for the sqlite mode');
      let body: unknown;
      try {
        body = JSON.parse((await readBody(req, 64 * 1024)).toString('utf8'));
      } catch (err) {
        if (err instanceof SidestashError) throw err;
        throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'request body must be JSON');
      }
      const r = parseAgentTokenRequest(body);
      const { token, view } = c.agentTokens.issue(r.namespace, r.targets, r.description);
      c.log.info('agent enrolment token issued', { id: view.id, namespace: view.namespace, targets: view.targets });
      sendJson(res, 201, { ...view, token });
    }),
    route('GET', AGENT_TOKENS_PATH, ({ res }) => {
      sendJson(res, 200, { items: c.agentTokens.list() });
    }),
    route('DELETE', `${AGENT_TOKENS_PATH}/:id`, ({ res, params }) => {
      const view = c.agentTokens.revoke(params.id!);
      c.log.info('agent enrolment token revoked', { id: view.id });
      sendJson(res, 200, view);
    }),
  ];
}
