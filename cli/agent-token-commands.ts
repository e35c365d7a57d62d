// sidestash agenttoken create|list|revoke: agent enrolment tokens, each scoped to one
// namespace (and optionally to named AppBindings). The token is printed once, at creation.
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import type { ApiClientOptions } from './api-client.ts';
import { api } from './api-client.ts';
import { age, table } from './format.ts';

export const AGENT_TOKEN_USAGE = `usage: sidestash agenttoken create -n NAMESPACE [--targets APPBINDING,...] [--description TEXT] [-o json]
       sidestash agenttoken list [-n NAMESPACE | -A] [-o json]
       sidestash agenttoken revoke ID`;

interface TokenView {
  id: string;
  namespace: string;
  targets?: string[];
  description?: string;
  source: string;
  createdAt?: string;
  revokedAt?: string;
  token?: string;
}

export interface AgentTokenFlags {
  namespace: string;
  targets?: string | undefined;
  description?: string | undefined;
  output?: string | undefined;
  /** list: every namespace's tokens (-A), as kubectl get; else those of `namespace`. */
  allNamespaces?: boolean | undefined;
}

export async function agentTokenCommand(o: ApiClientOptions, positionals: string[], flags: AgentTokenFlags): Promise<string> {
  const [sub, id] = positionals;
  switch (sub) {
    case 'create': {
      const body: Record<string, unknown> = { namespace: flags.namespace };
      if (flags.targets !== undefined) body.targets = flags.targets.split(',').map((t) => t.trim()).filter(Boolean);
      if (flags.description !== undefined) body.description = flags.description;
      const t = await api<TokenView>(o, 'POST', '/api/v1/agenttokens', body);
      if (flags.output === 'json') return JSON.stringify(t, null, 2);
      const scope = t.targets ? t.targets.map((x) => `${t.namespace}/${x}`).join(',') : `${t.namespace}/*`;
      return `agenttoken/${t.id} created for ${scope}\nThe token is shown this once; give it to the agents as SIDESTASH_AGENT_BOOTSTRAP_TOKEN:\n${t.token}`;
    }
    case 'list': {
      const all = (await api<{ items: TokenView[] }>(o, 'GET', '/api/v1/agenttokens')).items;
      const items = flags.allNamespaces ? all : all.filter((t) => t.namespace === flags.namespace);
      if (flags.output === 'json') return JSON.stringify(items, null, 2);
      if (items.length === 0) return flags.allNamespaces ? 'No agent tokens found' : `No agent tokens found in ${flags.namespace} namespace.`;
      // As kubectl get: the NAMESPACE column only with -A.
      const row = (t: TokenView): string[] => [t.id, ...(flags.allNamespaces ? [t.namespace] : []), t.targets?.join(',') ?? '*', t.source, age(t.createdAt), t.revokedAt ? age(t.revokedAt) : '-', t.description ?? ''];
      return table(['ID', ...(flags.allNamespaces ? ['NAMESPACE'] : []), 'TARGETS', 'SOURCE', 'AGE', 'REVOKED', 'DESCRIPTION'], items.map(row));
    }
    case 'revoke': {
      if (!id) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, AGENT_TOKEN_USAGE);
      await api(o, 'DELETE', `/api/v1/agenttokens/${encodeURIComponent(id)}`);
      return `agenttoken/${id} revoked (agents enrolled with it must register with another token)`;
    }
    default:
      throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, AGENT_TOKEN_USAGE);
  }
}
