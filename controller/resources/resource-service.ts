// Create, update, read and delete resources, with validation and Kubernetes-like rules:
// the spec is the user's, the status the controller's; sessions are immutable once created.
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import type { Store } from '../store/store.ts';
import { API_VERSION } from './types.ts';
import type { Kind, Resource } from './types.ts';
import { validateResource } from './validate.ts';
import { decodeSecretValue } from './secret-values.ts';
import { missingReferencesIn, referenceUsers, refreshMissingReferences } from './reference-status.ts';
import { referenceWarnings } from './references.ts';

export const DEFAULT_NAMESPACE = 'default';
const REDACTED = '[REDACTED]';

export type ApplyOutcome = 'created' | 'configured' | 'unchanged';
/** What apply did with one document; warnings name references to objects that do not exist (yet). */
export interface ApplyResult {
  outcome: ApplyOutcome;
  resource: Resource;
  warnings: string[];
}
/** What happened to a resource, for change listeners. */
export type ResourceChange = 'applied' | 'deleted';

export class ResourceService {
  readonly #store: Store;
  readonly #onChange: (r: Resource, change: ResourceChange) => void;

  constructor(store: Store, onChange: (r: Resource, change: ResourceChange) => void = () => {}) {
    this.#store = store;
    this.#onChange = onChange;
  }

  /** Validates and stores a document; VALIDATION_FAILED lists every problem with its field path. */
  apply(doc: unknown): ApplyResult {
    return this.applyAll([doc])[0]!;
  }

  /**
   * Stores several documents all or nothing: one store transaction, so that a document failing
   * at apply (e.g. a changed session: CONFLICT) leaves the earlier ones unstored. Change
   * listeners hear of the stored resources only after the commit. References are resolved
   * once all documents are stored, so their order does not matter.
   */
  applyAll(docs: readonly unknown[]): ApplyResult[] {
    const results = this.#store.transaction(() => {
      const applied = docs.map((d) => this.#applyOne(d));
      for (const ns of new Set(applied.map((r) => r.resource.metadata.namespace))) refreshMissingReferences(this.#store, ns);
      return applied.map(({ outcome, resource }) => {
        const current = this.#store.get<Record<string, unknown>, Record<string, unknown>>(resource.kind, resource.metadata.namespace, resource.metadata.name) ?? resource;
        return { outcome, resource: current, warnings: referenceWarnings(current, missingReferencesIn(this.#store, current)) };
      });
    });
    for (const r of results) if (r.outcome !== 'unchanged') this.#onChange(r.resource, 'applied');
    return results;
  }

  #applyOne(doc: unknown): { outcome: ApplyOutcome; resource: Resource } {
    const errors = validateResource(doc);
    if (errors.length > 0) {
      const d = doc as { kind?: unknown; metadata?: { name?: unknown } } | null;
      const what = `${typeof d?.kind === 'string' ? d.kind : 'resource'}${typeof d?.metadata?.name === 'string' ? ` ${d.metadata.name}` : ''}`;
      throw new SidestashError(ErrorCodes.VALIDATION_FAILED, `${what} is invalid: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, { details: { errors } });
    }
    const input = doc as Resource;
    const namespace = input.metadata.namespace ?? DEFAULT_NAMESPACE;
    const existing = this.#store.get<Record<string, unknown>, Record<string, unknown>>(input.kind, namespace, input.metadata.name);
    const metadata = { name: input.metadata.name, namespace, ...(input.metadata.labels ? { labels: input.metadata.labels } : {}) };
    if (existing && JSON.stringify(existing.spec) === JSON.stringify(input.spec) && JSON.stringify(existing.metadata.labels) === JSON.stringify(metadata.labels)) {
      return { outcome: 'unchanged', resource: existing };
    }
    if (existing && (input.kind === 'BackupSession' || input.kind === 'RestoreSession')) {
      throw new SidestashError(ErrorCodes.CONFLICT, `${input.kind} ${namespace}/${input.metadata.name} already exists and sessions cannot be changed; create a new one`);
    }
    const resource: Resource = { apiVersion: API_VERSION, kind: input.kind, metadata, spec: input.spec };
    if (existing?.status) resource.status = existing.status;
    else if (input.kind === 'BackupSession' || input.kind === 'RestoreSession') resource.status = { phase: 'Pending' };
    const stored = this.#store.put<Record<string, unknown>, Record<string, unknown>>(resource);
    return { outcome: existing ? 'configured' : 'created', resource: stored };
  }

  get(kind: Kind, namespace: string, name: string): Resource {
    const r = this.#store.get<Record<string, unknown>, Record<string, unknown>>(kind, namespace, name);
    if (!r) throw new SidestashError(ErrorCodes.NOT_FOUND, `${kind} ${namespace}/${name} not found`);
    return r;
  }

  list(kind: Kind, namespace?: string): Resource[] {
    return this.#store.list(kind, namespace);
  }

  /**
   * Deletes a resource. A Secret or Repository that others name is refused (CONFLICT, with
   * details.users) unless `force`; forced, the answer's warnings name whom it leaves broken.
   */
  delete(kind: Kind, namespace: string, name: string, options: { force?: boolean } = {}): { warnings: string[] } {
    const r = this.get(kind, namespace, name);
    if ((kind === 'BackupSession' || kind === 'RestoreSession') && (r.status as { phase?: string } | undefined)?.phase === 'Running') {
      throw new SidestashError(ErrorCodes.CONFLICT, `${kind} ${namespace}/${name} is running; cancel it first`);
    }
    const warnings = this.#store.transaction(() => {
      const users = kind === 'Secret' || kind === 'Repository' ? referenceUsers(this.#store, kind, namespace, name) : [];
      const named = users.map((u) => `${u.kind} ${u.namespace}/${u.name} (${u.field})`);
      if (users.length > 0 && !options.force) {
        throw new SidestashError(ErrorCodes.CONFLICT, `${kind} ${namespace}/${name} is in use by ${named.join(', ')}; delete or change those first, or force the delete (--force; API: ?force=true)`, { details: { users } });
      }
      this.#store.delete(kind, namespace, name);
      refreshMissingReferences(this.#store, namespace);
      return users.length > 0 ? [`${kind} ${namespace}/${name} was in use by ${named.join(', ')}; their sessions fail until it is created again`] : [];
    });
    this.#onChange(r, 'deleted');
    return { warnings };
  }

  /** Brings every status.missingReferences up to date (at start: the store may predate them). */
  refreshReferences(): number {
    return this.#store.transaction(() => refreshMissingReferences(this.#store));
  }
}

/** What the API shows of a resource: secret values never leave the controller. */
export function publicView(r: Resource): Resource {
  if (r.kind !== 'Secret') return r;
  const spec = r.spec as { data?: Record<string, string>; stringData?: Record<string, string> };
  const keys = [...Object.keys(spec.data ?? {}), ...Object.keys(spec.stringData ?? {})].sort();
  return { ...r, spec: { data: Object.fromEntries(keys.map((k) => [k, REDACTED])) } };
}

/** A secret's values, decoded. */
export function secretValues(r: Resource): Record<string, string> {
  const spec = r.spec as { data?: Record<string, string>; stringData?: Record<string, string> };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.data ?? {})) out[k] = decodeSecretValue(v, `${r.metadata.namespace}/${r.metadata.name}`, k);
  Object.assign(out, spec.stringData ?? {});
  return out;
}
