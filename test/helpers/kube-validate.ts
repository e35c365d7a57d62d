// Offline validation of Kubernetes objects against the API schemas (kubernetes-models).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: unknown;
}

/** Kinds of CRDs outside the core API (validated by their owners' tooling, not here). */
export const CRD_KINDS = new Set(['ServiceMonitor', 'Certificate', 'Issuer']);

export function parseManifests(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((d): d is KubeObject => d !== null && typeof d === 'object');
}

/** Throws with the schema errors when `obj` is not a valid object of its kind. */
export async function validateKube(obj: KubeObject): Promise<void> {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  const dir = group ? `${group}/${version}` : version!;
  const file = join(import.meta.dirname, '..', '..', 'node_modules', 'kubernetes-models', dir, `${obj.kind}.js`);
  if (!existsSync(file)) throw new Error(`no schema for ${obj.apiVersion} ${obj.kind}`);
  const mod = (await import(`kubernetes-models/${dir}/${obj.kind}`)) as Record<string, new (o: unknown) => { validate(): void }>;
  const Model = mod[obj.kind]!;
  new Model(obj).validate();
}

export function toolPath(name: string): string {
  const local = join(import.meta.dirname, '..', '..', '.tools', 'bin', name);
  return existsSync(local) ? local : name;
}
