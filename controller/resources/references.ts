// What a resource names by reference (Secrets, Repositories, AppBindings, all in its own
// namespace), and which of those do not exist. Objects may arrive in any order, as in
// Kubernetes: a missing reference is a warning at apply and an entry in the resource's
// status.missingReferences, never a refusal; a session that runs without it fails naming it.
import type { Kind, Resource } from './types.ts';

export type ReferencedKind = 'Secret' | 'Repository' | 'AppBinding';

export interface Reference {
  kind: ReferencedKind;
  name: string;
  /** Where the name is given, e.g. "spec.repository.name". */
  field: string;
}

/** A reference to an object that does not exist; `via` names the existing object that holds it, when not the resource itself. */
export interface MissingReference extends Reference {
  via?: string;
}

/** Kinds whose resources name others. */
export const REFERRING_KINDS: readonly Kind[] = ['Repository', 'AppBinding', 'BackupConfiguration', 'RestoreSession'];

type Lookup = (kind: ReferencedKind, name: string) => Resource | undefined;

/** The string at a path of an untyped object, or undefined. */
function at(obj: unknown, ...keys: string[]): string | undefined {
  let v = obj;
  for (const k of keys) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The references a resource's spec holds directly (a spec that failed validation yields what it can). */
export function referencesOf(r: Pick<Resource, 'kind' | 'spec'>): Reference[] {
  const out: Reference[] = [];
  const add = (kind: ReferencedKind, field: string): void => {
    const name = at(r, ...field.split('.'));
    if (name) out.push({ kind, name, field });
  };
  switch (r.kind) {
    case 'Repository':
      add('Secret', 'spec.backend.storageSecretName');
      break;
    case 'AppBinding':
      add('Secret', 'spec.secret.name');
      add('Secret', 'spec.tls.caSecretName');
      break;
    case 'BackupConfiguration':
    case 'RestoreSession':
      add('Repository', 'spec.repository.name');
      add('AppBinding', 'spec.target.ref.name');
      break;
    default:
  }
  return out;
}

/**
 * The references of `r` that do not resolve: its own, and those of the Repository and
 * AppBinding it names (a configuration whose Repository's Secret is gone cannot back up either).
 */
export function missingReferences(r: Pick<Resource, 'kind' | 'spec'>, lookup: Lookup): MissingReference[] {
  const out: MissingReference[] = [];
  for (const ref of referencesOf(r)) {
    const target = lookup(ref.kind, ref.name);
    if (!target) {
      out.push(ref);
      continue;
    }
    for (const inner of referencesOf(target)) if (!lookup(inner.kind, inner.name)) out.push({ ...inner, via: `${ref.kind} ${ref.name}` });
  }
  return out;
}

/** One warning line per missing reference of `r`, as the apply answer and the CLI show them. */
export function referenceWarnings(r: Pick<Resource, 'kind' | 'metadata'>, missing: readonly MissingReference[]): string[] {
  const self = `${r.kind} ${r.metadata.namespace}/${r.metadata.name}`;
  return missing.map((m) =>
    m.via
      ? `${self}: ${m.via} refers to ${m.kind} ${r.metadata.namespace}/${m.name} (${m.field}), which does not exist; sessions fail until it is created`
      : `${self} refers to ${m.kind} ${r.metadata.namespace}/${m.name} (${m.field}), which does not exist; sessions fail until it is created`,
  );
}

/** A resource that names `kind`/`name` directly: who stands in the way of deleting it. */
export interface ReferenceUser {
  kind: Kind;
  namespace: string;
  name: string;
  field: string;
}

/** The resources among `candidates` that name `kind`/`name` directly (same namespace). */
export function usersOf(kind: ReferencedKind, namespace: string, name: string, candidates: readonly Resource[]): ReferenceUser[] {
  const out: ReferenceUser[] = [];
  for (const c of candidates) {
    if (c.metadata.namespace !== namespace) continue;
    for (const ref of referencesOf(c)) if (ref.kind === kind && ref.name === name) out.push({ kind: c.kind, namespace, name: c.metadata.name, field: ref.field });
  }
  return out;
}
