// Create, update, read and delete resources, with validation and Kubernetes-like rules:
// the spec is the user's, the status the controller's; sessions are immutable once created.
import { ErrorCodes, SidestashError, errorMessage } from '../../common/errors.ts';
import type { BatchWrite, ResourceStore, ListOptions } from '../store/resource-store.ts';
import { retryOnConflict } from '../store/retry-on-conflict.ts';
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

/** One document's plan: what apply will do with it. */
interface Planned {
  outcome: ApplyOutcome;
  key: string;
  resource: Resource;
}

/**
 * A document that carries metadata.resourceVersion is applied only over that version, as the
 * Kubernetes API server does (a read-modify-write such as `sidestash pause` loses no concurrent
 * change): another version is CONFLICT (retryable: read again), and a version for an object
 * that does not exist is CONFLICT too (not retryable: the precondition cannot hold). Without one, apply writes over whatever is stored.
 */
function checkVersionPrecondition(input: Resource, existing: Resource | undefined, inThisApply: boolean): void {
  const wanted = input.metadata.resourceVersion as unknown;
  if (wanted === undefined || wanted === null || wanted === '' || inThisApply) return;
  const what = `${input.kind} ${input.metadata.namespace ?? DEFAULT_NAMESPACE}/${input.metadata.name}`;
  if (!existing) throw new SidestashError(ErrorCodes.CONFLICT, `${what} does not exist, so it cannot be applied over resourceVersion ${JSON.stringify(String(wanted))}; leave metadata.resourceVersion out to create it`);
  if (String(wanted) !== String(existing.metadata.resourceVersion)) {
    throw new SidestashError(ErrorCodes.CONFLICT, `${what} has been modified (resourceVersion ${JSON.stringify(String(existing.metadata.resourceVersion))}, the document names ${JSON.stringify(String(wanted))}); read it again and apply your change to the latest version`, { retryable: true });
  }
}

const keyOf = (r: Pick<Resource, 'kind' | 'metadata'>): string => `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`;

export class ResourceService {
  readonly #store: ResourceStore;
  readonly #onChange: (r: Resource, change: ResourceChange) => Promise<void> | void;

  constructor(store: ResourceStore, onChange: (r: Resource, change: ResourceChange) => Promise<void> | void = () => {}) {
    this.#store = store;
    this.#onChange = onChange;
  }

  /** Validates and stores a document; VALIDATION_FAILED lists every problem with its field path. */
  async apply(doc: unknown): Promise<ApplyResult> {
    return (await this.applyAll([doc]))[0]!;
  }

  /**
   * Stores several documents: every one is validated and planned (created, configured or
   * unchanged; a changed session: CONFLICT) before anything is written, then the writes go to
   * the store as one batch (applyBatch): all or nothing where the store can (sqlite), in order
   * up to the first failure where it cannot (Kubernetes, as kubectl apply). Change listeners hear
   * of the stored resources afterwards (and are awaited). References are resolved once all documents are stored,
   * so their order does not matter.
   */
  async applyAll(docs: readonly unknown[]): Promise<ApplyResult[]> {
    for (const d of docs) this.#validate(d);
    const planned: Planned[] = [];
    const writes = new Map<string, BatchWrite>();
    for (const d of docs) planned.push(await this.#plan(d as Resource, planned, writes));
    await this.#store.applyBatch([...writes.values()]);
    // The documents are stored: what follows derives from them, and the change listeners (the
    // schedule, ...) run whatever fails here, since an apply tried again finds them unchanged.
    const results: ApplyResult[] = [];
    try {
      const refreshFailed = await this.#refreshReferences(new Set(planned.map((p) => p.resource.metadata.namespace)));
      for (const { outcome, resource } of planned) {
        const current = (await this.#store.get<Record<string, unknown>, Record<string, unknown>>(resource.kind, resource.metadata.namespace, resource.metadata.name)) ?? resource;
        results.push({ outcome, resource: current, warnings: [...referenceWarnings(current, await missingReferencesIn(this.#store, current)), ...refreshFailed] });
      }
    } finally {
      for (const [i, p] of planned.entries()) if (p.outcome !== 'unchanged') await this.#onChange(results[i]?.resource ?? p.resource, 'applied');
    }
    return results;
  }

  /** Refreshes status.missingReferences in `namespaces`; a failure is a warning (derived data, redone by the next change and at start), never the write's failure. */
  async #refreshReferences(namespaces: Iterable<string>): Promise<string[]> {
    try {
      for (const ns of namespaces) await refreshMissingReferences(this.#store, ns);
      return [];
    } catch (err) {
      return [`stored, but status.missingReferences could not be brought up to date: ${errorMessage(err)}`];
    }
  }

  #validate(doc: unknown): void {
    const errors = validateResource(doc);
    if (errors.length > 0) {
      const d = doc as { kind?: unknown; metadata?: { name?: unknown } } | null;
      const what = `${typeof d?.kind === 'string' ? d.kind : 'resource'}${typeof d?.metadata?.name === 'string' ? ` ${d.metadata.name}` : ''}`;
      throw new SidestashError(ErrorCodes.VALIDATION_FAILED, `${what} is invalid: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, { details: { errors } });
    }
  }

  /** Decides what to do with `input` against the store and the documents before it (`writes`: one per object, the last document wins). */
  async #plan(input: Resource, earlier: readonly Planned[], writes: Map<string, BatchWrite>): Promise<Planned> {
    const namespace = input.metadata.namespace ?? DEFAULT_NAMESPACE;
    const metadata = { name: input.metadata.name, namespace, ...(input.metadata.labels ? { labels: input.metadata.labels } : {}) };
    const key = keyOf({ kind: input.kind, metadata });
    const before = [...earlier].reverse().find((p) => p.key === key)?.resource;
    const existing = before ?? (await this.#store.get<Record<string, unknown>, Record<string, unknown>>(input.kind, namespace, input.metadata.name));
    checkVersionPrecondition(input, existing, before !== undefined);
    if (existing && JSON.stringify(existing.spec) === JSON.stringify(input.spec) && JSON.stringify(existing.metadata.labels) === JSON.stringify(metadata.labels)) {
      return { outcome: 'unchanged', key, resource: existing };
    }
    if (existing && (input.kind === 'BackupSession' || input.kind === 'RestoreSession')) {
      throw new SidestashError(ErrorCodes.CONFLICT, `${input.kind} ${namespace}/${input.metadata.name} already exists and sessions cannot be changed; create a new one`);
    }
    const resource: Resource = { apiVersion: API_VERSION, kind: input.kind, metadata, spec: input.spec };
    const earlierWrite = writes.get(key);
    if (earlierWrite) {
      // The same object twice in one apply: the later document replaces the earlier one's write.
      writes.set(key, { ...earlierWrite, resource: { ...earlierWrite.resource, metadata, spec: input.spec } });
    } else if (existing) {
      writes.set(key, { op: 'update', resource: { ...resource, metadata: { ...metadata, ...(existing.metadata.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}) } }, ifVersion: existing.metadata.resourceVersion! });
    } else {
      if (input.kind === 'BackupSession' || input.kind === 'RestoreSession') resource.status = { phase: 'Pending' };
      writes.set(key, { op: 'create', resource });
    }
    return { outcome: existing ? 'configured' : 'created', key, resource: existing ? { ...existing, metadata: { ...existing.metadata, ...metadata }, spec: input.spec } : resource };
  }

  async get(kind: Kind, namespace: string, name: string): Promise<Resource> {
    const r = await this.#store.get<Record<string, unknown>, Record<string, unknown>>(kind, namespace, name);
    if (!r) throw new SidestashError(ErrorCodes.NOT_FOUND, `${kind} ${namespace}/${name} not found`);
    return r;
  }

  list(kind: Kind, options: Pick<ListOptions, 'namespace' | 'labelSelector' | 'after' | 'limit'> = {}): Promise<Resource[]> {
    return this.#store.list(kind, options);
  }

  /**
   * Deletes a resource. A Secret or Repository that others name is refused (CONFLICT, with
   * details.users) unless `force`; forced, the answer's warnings name whom it leaves broken.
   * The delete names the version the check read (a change meanwhile: checked again); a
   * referrer applied between the check and the delete shows the reference as missing.
   */
  async delete(kind: Kind, namespace: string, name: string, options: { force?: boolean } = {}): Promise<{ warnings: string[] }> {
    const { r, warnings } = await retryOnConflict(async () => {
      const r = await this.get(kind, namespace, name);
      if ((kind === 'BackupSession' || kind === 'RestoreSession') && (r.status as { phase?: string } | undefined)?.phase === 'Running') {
        throw new SidestashError(ErrorCodes.CONFLICT, `${kind} ${namespace}/${name} is running; cancel it first`);
      }
      const users = kind === 'Secret' || kind === 'Repository' ? await referenceUsers(this.#store, kind, namespace, name) : [];
      const named = users.map((u) => `${u.kind} ${u.namespace}/${u.name} (${u.field})`);
      if (users.length > 0 && !options.force) {
        throw new SidestashError(ErrorCodes.CONFLICT, `${kind} ${namespace}/${name} is in use by ${named.join(', ')}; delete or change those first, or force the delete (--force; API: ?force=true)`, { details: { users } });
      }
      if (!(await this.#store.delete(kind, namespace, name, { ifVersion: r.metadata.resourceVersion! }))) throw new SidestashError(ErrorCodes.NOT_FOUND, `${kind} ${namespace}/${name} not found`);
      return { r, warnings: users.length > 0 ? [`${kind} ${namespace}/${name} was in use by ${named.join(', ')}; their sessions fail until it is created again`] : [] };
    });
    // Deleted: the change listeners (ending its sessions, the Pushgateway) run whatever else fails.
    try {
      return { warnings: [...warnings, ...(await this.#refreshReferences([namespace]))] };
    } finally {
      await this.#onChange(r, 'deleted');
    }
  }

  /** Brings every status.missingReferences (of `namespace`, or all) up to date (at start: the store may predate them). */
  refreshReferences(namespace?: string): Promise<number> {
    return refreshMissingReferences(this.#store, namespace);
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
