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
export const CRD_KINDS = new Set(['ServiceMonitor', 'PrometheusRule', 'Certificate', 'Issuer']);

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
  if (obj.kind === 'Pod') {
    const problems = podSpecProblems(obj.spec as PodSpecLike);
    if (problems.length > 0) throw new Error(`the API server would reject this Pod: ${problems.join('; ')}`);
  }
}

interface PodSpecLike {
  volumes?: { name: string }[];
  containers?: { name: string; volumeMounts?: { name: string; mountPath: string }[] }[];
  initContainers?: { name: string; volumeMounts?: { name: string; mountPath: string }[] }[];
}

/**
 * What the API server's validation (beyond the schema) refuses in a pod spec, as far as an
 * injector can get it wrong: duplicate volume or container names, a container mounting one
 * path twice, a mount of a volume that does not exist.
 */
export function podSpecProblems(spec: PodSpecLike): string[] {
  const problems: string[] = [];
  const dupes = (names: string[]): string[] => [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
  const volumes = (spec.volumes ?? []).map((v) => v.name);
  for (const d of dupes(volumes)) problems.push(`spec.volumes: duplicate name ${JSON.stringify(d)}`);
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  for (const d of dupes(containers.map((c) => c.name))) problems.push(`duplicate container name ${JSON.stringify(d)}`);
  for (const c of containers) {
    const mounts = c.volumeMounts ?? [];
    for (const d of dupes(mounts.map((m) => m.mountPath.replace(/(.)\/+$/, '$1')))) problems.push(`container ${c.name}: mountPath ${JSON.stringify(d)} mounted twice`);
    for (const m of mounts) if (!volumes.includes(m.name)) problems.push(`container ${c.name}: mounts volume ${JSON.stringify(m.name)}, which is not in spec.volumes`);
  }
  return problems;
}

export function toolPath(name: string): string {
  const local = join(import.meta.dirname, '..', '..', '.tools', 'bin', name);
  return existsSync(local) ? local : name;
}
