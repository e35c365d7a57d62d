// Sidecar injection as a pure function: a Pod (from an AdmissionReview) and the injection
// settings in, a JSONPatch out. Pods opt in with the annotation sidestash.io/inject: "true"
// and name their AppBinding(s) with sidestash.io/target. The agent becomes a native sidecar
// (an init container with restartPolicy Always) where the cluster supports it, else a plain
// container; the MariaDB socket directory is shared through an emptyDir (or a volume the pod
// already mounts there). A pod that has the agent already is left alone. The patched pod is
// always one the API server accepts: volume names the pod already uses are not reused, a
// mount path a container has is not mounted twice; a bad annotation means no injection and a
// warning, never a broken pod.
import { controllerTlsEnv } from './agent-tls-env.ts';
import { sameMountPath, socketDirProblem } from './socket-dir.ts';

export const ANNOTATIONS = {
  inject: 'sidestash.io/inject',
  target: 'sidestash.io/target',
  socketDir: 'sidestash.io/socket-dir',
  databaseContainer: 'sidestash.io/database-container',
  injected: 'sidestash.io/injected',
} as const;

export const AGENT_CONTAINER = 'sidestash-agent';
const SOCKET_VOLUME = 'sidestash-socket';
const TMP_VOLUME = 'sidestash-tmp';
const TOKEN_VOLUME = 'sidestash-token';
/** Where the injected agent finds its projected ServiceAccount token (Kubernetes mode). */
export const AGENT_TOKEN_DIR = '/var/run/secrets/sidestash.io/serviceaccount';
export const AGENT_TOKEN_AUDIENCE = 'sidestash';
export const AGENT_TOKEN_EXPIRATION_S = 3600;

export interface InjectionConfig {
  image: string;
  imagePullPolicy?: string;
  /** URL the agents reach the controller at. */
  controllerUrl: string;
  /** PEM of the CA that signed the controller's certificate, given to agents (SIDESTASH_CONTROLLER_CA). */
  controllerCaCert?: string;
  /** The controller serves plain HTTP (SIDESTASH_INSECURE_HTTP): agents need the same flag. */
  insecureHttp?: boolean;
  /** Secret (in the pod's namespace) holding that namespace's agent enrolment token under key "token". */
  tokenSecretName: string;
  /** Kubernetes mode: the agent authenticates with a projected ServiceAccount token (audience sidestash) instead. */
  serviceAccountToken?: boolean;
  nativeSidecar: boolean;
  resources?: Record<string, unknown>;
}

export type JsonPatchOp = { op: 'add' | 'replace'; path: string; value: unknown };

interface Container {
  name: string;
  volumeMounts?: { name: string; mountPath: string; subPath?: string; subPathExpr?: string }[];
  [k: string]: unknown;
}

export interface PodLike {
  metadata?: { name?: string; generateName?: string; annotations?: Record<string, string> };
  spec?: { containers?: Container[]; initContainers?: Container[]; volumes?: { name: string }[] };
}

export type InjectionDecision = { inject: false; reason: string; warnings?: string[] } | { inject: true; patch: JsonPatchOp[] };

const escapePointer = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');
const APPBINDING = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export function decideInjection(pod: PodLike, namespace: string, config: InjectionConfig): InjectionDecision {
  const ann = pod.metadata?.annotations ?? {};
  if (ann[ANNOTATIONS.inject] !== 'true') return { inject: false, reason: 'not opted in' };
  const spec = pod.spec ?? {};
  const all = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  if (all.some((c) => c.name === AGENT_CONTAINER) || ann[ANNOTATIONS.injected] === 'true') return { inject: false, reason: 'already injected' };
  const targets = (ann[ANNOTATIONS.target] ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  const warnings: string[] = [];
  if (targets.length === 0) warnings.push(`annotation ${ANNOTATIONS.target} is required (the AppBinding name(s) this pod serves)`);
  for (const t of targets) if (!APPBINDING.test(t)) warnings.push(`${ANNOTATIONS.target}: ${JSON.stringify(t)} is not a valid AppBinding name`);
  const dbName = ann[ANNOTATIONS.databaseContainer] ?? spec.containers?.[0]?.name;
  const dbIndex = (spec.containers ?? []).findIndex((c) => c.name === dbName);
  if (dbIndex < 0) warnings.push(`${ANNOTATIONS.databaseContainer}: no container named ${JSON.stringify(dbName)}`);
  const socketDir = ann[ANNOTATIONS.socketDir] ?? '/run/mysqld';
  const dirProblem = typeof socketDir === 'string' ? socketDirProblem(socketDir) : 'must be a string';
  if (dirProblem) warnings.push(`${ANNOTATIONS.socketDir}: ${JSON.stringify(socketDir).slice(0, 100)} ${dirProblem}`);
  if (warnings.length > 0) return { inject: false, reason: 'invalid annotations', warnings };

  const db = spec.containers![dbIndex]!;
  const existingMount = db.volumeMounts?.find((m) => sameMountPath(m.mountPath, socketDir));
  // Names of the pod's own volumes are never taken over: sidestash-socket-1 if need be.
  const usedNames = new Set((spec.volumes ?? []).map((v) => v.name));
  const freeName = (base: string): string => {
    let name = base;
    for (let i = 1; usedNames.has(name); i++) name = `${base}-${i}`;
    usedNames.add(name);
    return name;
  };
  const socketVolume = existingMount?.name ?? freeName(SOCKET_VOLUME);
  // A socket directory of /tmp serves as the agent's /tmp too: one mount per path.
  const tmpVolume = sameMountPath(socketDir, '/tmp') ? undefined : freeName(TMP_VOLUME);
  const patch: JsonPatchOp[] = [];
  const appendTo = (path: string, exists: boolean, value: unknown): void => {
    patch.push(exists ? { op: 'add', path: `${path}/-`, value } : { op: 'add', path, value: [value] });
  };
  let volumesExist = spec.volumes !== undefined;
  const addVolume = (v: Record<string, unknown>): void => {
    appendTo('/spec/volumes', volumesExist, v);
    volumesExist = true;
  };
  if (!existingMount) {
    addVolume({ name: socketVolume, emptyDir: {} });
    appendTo(`/spec/containers/${dbIndex}/volumeMounts`, db.volumeMounts !== undefined, { name: socketVolume, mountPath: socketDir });
  }
  if (tmpVolume) addVolume({ name: tmpVolume, emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } });
  // Kubernetes mode: a token for audience sidestash, bound to this pod, rotated by the kubelet.
  const tokenVolume = config.serviceAccountToken ? freeName(TOKEN_VOLUME) : undefined;
  if (tokenVolume) addVolume({ name: tokenVolume, projected: { sources: [{ serviceAccountToken: { audience: AGENT_TOKEN_AUDIENCE, expirationSeconds: AGENT_TOKEN_EXPIRATION_S, path: 'token' } }] } });
  // The agent sees the socket directory as the database does (same volume, same subPath).
  const socketMount: Record<string, unknown> = { name: socketVolume, mountPath: socketDir };
  if (typeof existingMount?.subPath === 'string') socketMount.subPath = existingMount.subPath;
  if (typeof existingMount?.subPathExpr === 'string') socketMount.subPathExpr = existingMount.subPathExpr;

  const env: Record<string, unknown>[] = [
    { name: 'SIDESTASH_CONTROLLER_URL', value: config.controllerUrl },
    tokenVolume
      ? { name: 'SIDESTASH_AGENT_TOKEN_FILE', value: `${AGENT_TOKEN_DIR}/token` }
      : { name: 'SIDESTASH_AGENT_BOOTSTRAP_TOKEN', valueFrom: { secretKeyRef: { name: config.tokenSecretName, key: 'token' } } },
    { name: 'SIDESTASH_AGENT_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    // Identity is namespace/name; the namespace's enrolment token is scoped to it.
    { name: 'SIDESTASH_AGENT_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'SIDESTASH_AGENT_TARGETS', value: targets.map((t) => `${namespace}/${t}`).join(',') },
    { name: 'SIDESTASH_TMPDIR', value: '/tmp' },
  ];
  env.push(...controllerTlsEnv(config));
  const agent: Record<string, unknown> = {
    name: AGENT_CONTAINER,
    image: config.image,
    imagePullPolicy: config.imagePullPolicy ?? 'IfNotPresent',
    args: ['agent'],
    env,
    volumeMounts: [socketMount, ...(tmpVolume ? [{ name: tmpVolume, mountPath: '/tmp' }] : []), ...(tokenVolume ? [{ name: tokenVolume, mountPath: AGENT_TOKEN_DIR, readOnly: true }] : [])],
    resources: config.resources ?? { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
  if (config.nativeSidecar) {
    agent.restartPolicy = 'Always';
    appendTo('/spec/initContainers', spec.initContainers !== undefined, agent);
  } else {
    appendTo('/spec/containers', true, agent);
  }
  patch.push({ op: 'add', path: `/metadata/annotations/${escapePointer(ANNOTATIONS.injected)}`, value: 'true' });
  return { inject: true, patch };
}
