// The user-facing API: apply, list, get, delete resources; trigger and cancel sessions;
// list a repository's snapshots. Requires the admin token.
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import { KINDS, PLURALS } from '../resources/types.ts';
import type { Kind, RepositorySpec } from '../resources/types.ts';
import { DEFAULT_NAMESPACE, publicView } from '../resources/resource-service.ts';
import type { Controller } from '../controller.ts';
import { parseDocuments, readBody, sendJson } from './http-util.ts';
import { route } from './router.ts';
import type { Route } from './router.ts';
import { validateResource } from '../resources/validate.ts';
import { setWarnings } from './warning-header.ts';
import { isAgentOnline } from '../agents/agent-online.ts';
import { pageMetadata, parsePageRequest } from './list-pages.ts';

const KIND_BY_PLURAL = new Map<string, Kind>(KINDS.map((k) => [PLURALS[k], k]));
const ANY_KIND = `:plural(${KINDS.map((k) => PLURALS[k]).join('|')})`;
const SESSION_KIND = `:plural(${PLURALS.BackupSession}|${PLURALS.RestoreSession})`;

function kindOf(plural: string): Kind {
  const k = KIND_BY_PLURAL.get(plural.toLowerCase());
  if (!k) throw new SidestashError(ErrorCodes.NOT_FOUND, `unknown resource type ${JSON.stringify(plural)}; known: ${[...KIND_BY_PLURAL.keys()].join(', ')}`);
  return k;
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function ns(query: URLSearchParams): string {
  const v = query.get('namespace') ?? DEFAULT_NAMESPACE;
  if (!NAMESPACE.test(v)) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `namespace ${JSON.stringify(v)} is not a valid namespace name`);
  return v;
}

/** ?force=true (or ?force): delete a Secret or Repository that others still name. */
function force(query: URLSearchParams): boolean {
  const v = query.get('force');
  if (v === null || v === 'false') return false;
  if (v === '' || v === 'true') return true;
  throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `force ${JSON.stringify(v)} must be true or false`);
}

/** The {name} path parameter, checked like metadata.name. */
function nameOf(params: Record<string, string>): string {
  const v = params.name ?? '';
  if (!NAME.test(v)) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `name ${JSON.stringify(v)} is not a valid resource name`);
  return v;
}

export function adminRoutes(c: Controller): Route[] {
  return [
    route('POST', '/api/v1/apply', async ({ req, res }) => {
      const docs = parseDocuments(await readBody(req), req.headers['content-type']);
      // All documents are validated before any is stored: a bad file changes nothing.
      const errors = docs.flatMap((d, i) =>
        validateResource(d).map((e) => ({ document: i + 1, kind: (d as { kind?: unknown } | null)?.kind, name: (d as { metadata?: { name?: unknown } } | null)?.metadata?.name, ...e })),
      );
      if (errors.length > 0) {
        throw new SidestashError(ErrorCodes.VALIDATION_FAILED, errors.map((e) => `document ${e.document} (${String(e.kind ?? '?')} ${String(e.name ?? '?')}): ${e.field}: ${e.message}`).join('; '), { details: { errors } });
      }
      // ...and stored as one batch: a document that fails at apply (a conflict) stores none where the
      // store writes batches atomically (sqlite; resource-store.ts).
      // References to objects not there (yet) are warnings, as objects may come in any order.
      const applied = await c.resources.applyAll(docs);
      const results = applied.map(({ outcome, resource, warnings }) => ({ kind: resource.kind, namespace: resource.metadata.namespace, name: resource.metadata.name, outcome, ...(warnings.length > 0 ? { warnings } : {}) }));
      const warnings = [...new Set(applied.flatMap((r) => r.warnings))];
      setWarnings(res, warnings);
      sendJson(res, 200, { results, ...(warnings.length > 0 ? { warnings } : {}) });
    }),
    route('GET', '/api/v1/agents', ({ res }) => {
      // online: reported within the lease, as sidestash_agent_online and the Pending sweep decide.
      const nowMs = Date.now();
      sendJson(res, 200, { items: c.store.listAgents().map(({ tokenSha256: _t, ...a }) => ({ ...a, online: isAgentOnline(a, nowMs, c.config.leaseMs), enrolledWith: c.agents.credentialOf(a.name)?.replace(/@[0-9a-f]+$/, '') ?? null })) });
    }),
    route('GET', `/api/v1/${ANY_KIND}`, async ({ res, params, query }) => {
      const kind = kindOf(params.plural!);
      const namespace = query.has('namespace') ? ns(query) : undefined;
      // ?labelSelector=: Kubernetes' syntax (common/label-selector.ts), filtered by the store.
      const labelSelector = query.get('labelSelector') ?? '';
      // ?limit= and ?continue=: a page (list-pages.ts); without a limit, the whole list.
      const page = parsePageRequest(query);
      const items = await c.resources.list(kind, { ...(namespace === undefined ? {} : { namespace }), ...(labelSelector === '' ? {} : { labelSelector }), ...page });
      const metadata = pageMetadata(items, page.limit);
      sendJson(res, 200, { ...(metadata.continue === undefined ? {} : { metadata }), items: (await c.sessions.withPendingReasons(items)).map(publicView) });
    }),
    route('GET', `/api/v1/${ANY_KIND}/:name`, async ({ res, params, query }) => {
      sendJson(res, 200, publicView((await c.sessions.withPendingReasons([await c.resources.get(kindOf(params.plural!), ns(query), nameOf(params))]))[0]!));
    }),
    route('DELETE', `/api/v1/${ANY_KIND}/:name`, async ({ res, params, query }) => {
      const { warnings } = await c.resources.delete(kindOf(params.plural!), ns(query), nameOf(params), { force: force(query) });
      setWarnings(res, warnings);
      sendJson(res, 200, { deleted: true, ...(warnings.length > 0 ? { warnings } : {}) });
    }),
    route('POST', '/api/v1/backupconfigurations/:name/trigger', async ({ res, params, query }) => {
      const namespace = ns(query);
      await c.resources.get('BackupConfiguration', namespace, nameOf(params));
      // ?name= names the session (a taken name: CONFLICT); without it, generateName's rule.
      const session = await c.sessions.createBackupSession(namespace, nameOf(params), 'manual', query.has('name') ? nameOf({ name: query.get('name')! }) : undefined);
      if (!session) throw new SidestashError(ErrorCodes.CONFLICT, `a session of BackupConfiguration ${namespace}/${params.name} is already pending or running`, { retryable: true });
      sendJson(res, 201, session);
    }),
    route('POST', `/api/v1/${SESSION_KIND}/:name/cancel`, async ({ res, params, query }) => {
      const kind = kindOf(params.plural!);
      if (kind !== 'BackupSession' && kind !== 'RestoreSession') throw new SidestashError(ErrorCodes.NOT_FOUND, 'only sessions can be cancelled');
      sendJson(res, 200, await c.sessions.cancel(kind, ns(query), nameOf(params)));
    }),
    route('GET', '/api/v1/repositories/:name/snapshots', async ({ res, params, query, signal }) => {
      const repo = await c.resources.get('Repository', ns(query), nameOf(params));
      sendJson(res, 200, { items: await c.listSnapshots(ns(query), repo.metadata.name, repo.spec as unknown as RepositorySpec, signal) });
    }),
  ];
}
