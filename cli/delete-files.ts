// `delete -f FILE [-f FILE]...`: deletes the resources a file's documents name (kind,
// metadata.name, metadata.namespace or -n), as kubectl does. Every document is read before any
// is deleted: a file with a problem deletes nothing. Deletion goes on past a failure (a
// resource already gone), and the command fails at the end naming each.
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { ErrorCodes, SidestashError, isSidestashError } from '../common/errors.ts';
import type { ApiClientOptions } from './api-client.ts';
import { api } from './api-client.ts';
import { plural, singular } from './resource-commands.ts';

export interface PlannedDelete {
  plural: string;
  name: string;
  namespace: string;
  /** "FILE document N" */
  origin: string;
}

/** The deletions a file's text asks for, or INVALID_ARGUMENT naming every document it cannot read. */
export function planDeletes(text: string, file: string, defaultNamespace: string): PlannedDelete[] {
  const problems: string[] = [];
  const out: PlannedDelete[] = [];
  let docs: unknown[];
  try {
    docs = file.endsWith('.json') ? [JSON.parse(text) as unknown].flat() : parseAllDocuments(text).map((d, i) => {
      if (d.errors.length > 0) throw new Error(`document ${i + 1}: ${d.errors[0]!.message}`);
      return d.toJSON() as unknown;
    });
  } catch (err) {
    throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `${file}: ${(err as Error).message}`);
  }
  docs.forEach((d, i) => {
    if (d === null || d === undefined) return;
    const origin = `${file} document ${i + 1}`;
    const doc = d as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
    if (typeof doc.kind !== 'string') return void problems.push(`${origin}: kind: required`);
    let p: string;
    try {
      p = plural(doc.kind);
    } catch (err) {
      return void problems.push(`${origin}: kind: ${(err as Error).message}`);
    }
    if (p === 'agents') return void problems.push(`${origin}: kind: agents are not deleted from files`);
    if (typeof doc.metadata?.name !== 'string' || doc.metadata.name === '') return void problems.push(`${origin}: metadata.name: required`);
    const namespace = typeof doc.metadata.namespace === 'string' ? doc.metadata.namespace : defaultNamespace;
    out.push({ plural: p, name: doc.metadata.name, namespace, origin });
  });
  if (problems.length > 0) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `nothing deleted:\n${problems.join('\n')}`);
  return out;
}

export async function deleteFiles(o: ApiClientOptions, files: string[], namespace: string, ignoreNotFound: boolean, write: (s: string) => void): Promise<void> {
  const planned: PlannedDelete[] = [];
  for (const f of files) planned.push(...planDeletes(await readFile(f, 'utf8'), f, namespace));
  const failures: string[] = [];
  for (const d of planned) {
    try {
      await api(o, 'DELETE', `/api/v1/${d.plural}/${encodeURIComponent(d.name)}?namespace=${encodeURIComponent(d.namespace)}`);
      write(`${singular(d.plural)}/${d.name} deleted`);
    } catch (err) {
      if (ignoreNotFound && isSidestashError(err, ErrorCodes.NOT_FOUND)) continue;
      failures.push(`${d.origin} (${d.plural}/${d.name}): ${(err as Error).message}`);
    }
  }
  if (failures.length > 0) throw new SidestashError(ErrorCodes.NOT_FOUND, failures.join('\n'));
}
