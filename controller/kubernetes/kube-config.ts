// Where the Kubernetes API server is and how to authenticate to it: a kubeconfig (for a
// controller run on a host: SIDESTASH_KUBECONFIG, else KUBECONFIG) or, in a pod, the
// ServiceAccount's mounted token, CA and namespace (KUBERNETES_SERVICE_HOST/PORT). Parsed once;
// every problem is reported together, each with its field path. Supported user credentials:
// token, tokenFile, client certificate and key (files or -data). Exec and auth-provider plugins
// are refused with a clear error (a controller should not run a cloud CLI per request).
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export type KubeCredentials =
  | { kind: 'token'; token: string }
  /** A token file re-read as it rotates (projected ServiceAccount tokens are). */
  | { kind: 'token-file'; file: string }
  | { kind: 'client-certificate'; certPem: string; keyPem: string }
  | { kind: 'none' };

export interface KubeConnection {
  /** https://host:port, without a trailing slash. */
  server: string;
  /** PEM of the CA that signed the server's certificate; undefined: the system's trust store. */
  caPem?: string;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  credentials: KubeCredentials;
  /** The context's namespace, or the pod's own; 'default' when neither says. */
  namespace: string;
  /** Where this came from, for logs: a kubeconfig path or "in-cluster". */
  source: string;
}

type FileReader = (path: string) => string;
const readText: FileReader = (path) => readFileSync(path, 'utf8');

interface Named<T> {
  name?: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * A kubeconfig's text (already read) as a connection: the current context (or `contextName`).
 * `baseDir` resolves relative file paths as kubectl does (relative to the kubeconfig's folder).
 */
export function parseKubeconfig(text: string, baseDir: string, source: string, options: { contextName?: string; readFile?: FileReader } = {}): KubeConnection {
  const read = options.readFile ?? readText;
  const problems: string[] = [];
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new SidestashError(ErrorCodes.INVALID_CONFIG, `${source}: not YAML: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `${source}: not a kubeconfig (expected a mapping)`);
  const pick = (list: string, field: 'cluster' | 'user' | 'context', name: string | undefined): [Record<string, unknown> | undefined, string] => {
    const items = Array.isArray(doc[list]) ? (doc[list] as Named<unknown>[]) : [];
    const i = items.findIndex((it) => isObject(it) && it.name === name);
    if (name === undefined || i < 0) {
      problems.push(`${list}: no ${field} named ${JSON.stringify(name ?? '')}`);
      return [undefined, list];
    }
    const v = items[i]![field];
    if (!isObject(v)) problems.push(`${list}[${i}].${field}: required`);
    return [isObject(v) ? v : undefined, `${list}[${i}].${field}`];
  };
  const contextName = options.contextName ?? str(doc['current-context']);
  if (contextName === undefined) problems.push('current-context: required (or name a context)');
  const [context] = contextName === undefined ? [undefined, 'contexts'] : pick('contexts', 'context', contextName);
  const [cluster, clusterPath] = context ? pick('clusters', 'cluster', str(context.cluster)) : [undefined, 'clusters'];
  const [user, userPath] = context && str(context.user) ? pick('users', 'user', str(context.user)) : [undefined, 'users'];
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  // A PEM either inline (base64 in *-data) or in a file.
  const pem = (obj: Record<string, unknown>, path: string, field: string): string | undefined => {
    const data = str(obj[`${field}-data`]);
    if (data) {
      const decoded = Buffer.from(data, 'base64').toString('utf8');
      if (!decoded.includes('-----BEGIN')) problems.push(`${path}.${field}-data: not base64 of a PEM`);
      return decoded;
    }
    const file = str(obj[field]);
    if (!file) return undefined;
    try {
      return read(abs(file));
    } catch (err) {
      problems.push(`${path}.${field}: cannot read ${abs(file)}: ${(err as Error).message}`);
      return undefined;
    }
  };
  let server = '';
  let caPem: string | undefined;
  let insecure = false;
  let tlsServerName: string | undefined;
  if (cluster) {
    server = (str(cluster.server) ?? '').replace(/\/+$/, '');
    if (!server) problems.push(`${clusterPath}.server: required`);
    else if (!/^https?:\/\/[^/]+$/.test(server)) problems.push(`${clusterPath}.server: ${JSON.stringify(server)} is not a URL like https://host:port`);
    caPem = pem(cluster, clusterPath, 'certificate-authority');
    insecure = cluster['insecure-skip-tls-verify'] === true;
    tlsServerName = str(cluster['tls-server-name']);
    if (cluster['proxy-url'] !== undefined) problems.push(`${clusterPath}.proxy-url: proxies are not supported`);
  }
  let credentials: KubeCredentials = { kind: 'none' };
  if (user) {
    if (user.exec !== undefined) problems.push(`${userPath}.exec: exec credential plugins are not supported; use a token, tokenFile or client certificate`);
    if (user['auth-provider'] !== undefined) problems.push(`${userPath}.auth-provider: auth providers are not supported; use a token, tokenFile or client certificate`);
    if (user.username !== undefined || user.password !== undefined) problems.push(`${userPath}.username: basic authentication is not supported`);
    const cert = pem(user, userPath, 'client-certificate');
    const key = pem(user, userPath, 'client-key');
    const token = str(user.token);
    const tokenFile = str(user.tokenFile);
    if (cert && key) credentials = { kind: 'client-certificate', certPem: cert, keyPem: key };
    else if (cert || key) problems.push(`${userPath}: client-certificate and client-key go together`);
    if (token) credentials = { kind: 'token', token };
    else if (tokenFile) credentials = { kind: 'token-file', file: abs(tokenFile) };
  }
  if (problems.length > 0) {
    throw new SidestashError(ErrorCodes.INVALID_CONFIG, `${source}: ${problems.join('; ')}`, { details: { problems } });
  }
  return { server, ...(caPem ? { caPem } : {}), insecureSkipTlsVerify: insecure, ...(tlsServerName ? { tlsServerName } : {}), credentials, namespace: str(context?.namespace) ?? 'default', source };
}

/** The pod's own connection: the ServiceAccount token (re-read as it rotates), CA and namespace. */
export function inClusterConnection(env: Record<string, string | undefined>, options: { dir?: string; readFile?: FileReader } = {}): KubeConnection {
  const dir = options.dir ?? SERVICE_ACCOUNT_DIR;
  const read = options.readFile ?? readText;
  const problems: string[] = [];
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT || '443';
  if (!host) problems.push('KUBERNETES_SERVICE_HOST: unset (not in a pod); set SIDESTASH_KUBECONFIG');
  if (!/^\d{1,5}$/.test(port)) problems.push(`KUBERNETES_SERVICE_PORT: ${JSON.stringify(port)} is not a port`);
  const readOr = (name: string, required: boolean): string | undefined => {
    try {
      return read(`${dir}/${name}`);
    } catch (err) {
      if (required) problems.push(`${dir}/${name}: cannot read: ${(err as Error).message}`);
      return undefined;
    }
  };
  const caPem = readOr('ca.crt', true);
  // The token is read here once to fail early; the client re-reads it as it rotates.
  readOr('token', true);
  const namespace = readOr('namespace', false)?.trim() || 'default';
  if (problems.length > 0) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `in-cluster Kubernetes configuration: ${problems.join('; ')}`, { details: { problems } });
  const h = host!.includes(':') ? `[${host}]` : host!;
  return { server: `https://${h}:${port}`, ...(caPem ? { caPem } : {}), insecureSkipTlsVerify: false, credentials: { kind: 'token-file', file: `${dir}/token` }, namespace, source: 'in-cluster' };
}

/**
 * The connection for this process: SIDESTASH_KUBECONFIG, else KUBECONFIG (the first file of a
 * colon-separated list), else in-cluster. SIDESTASH_KUBE_CONTEXT picks a context.
 */
export function loadKubeConnection(env: Record<string, string | undefined> = process.env, options: { readFile?: FileReader; serviceAccountDir?: string } = {}): KubeConnection {
  const read = options.readFile ?? readText;
  const named = env.SIDESTASH_KUBECONFIG ? ['SIDESTASH_KUBECONFIG', env.SIDESTASH_KUBECONFIG] : env.KUBECONFIG ? ['KUBECONFIG', env.KUBECONFIG.split(':').find((p) => p !== '')] : undefined;
  if (named && named[1]) {
    const path = resolve(named[1]);
    let text: string;
    try {
      text = read(path);
    } catch (err) {
      throw new SidestashError(ErrorCodes.INVALID_CONFIG, `${named[0]}: cannot read ${path}: ${(err as Error).message}`);
    }
    return parseKubeconfig(text, dirname(path), path, { readFile: read, ...(env.SIDESTASH_KUBE_CONTEXT ? { contextName: env.SIDESTASH_KUBE_CONTEXT } : {}) });
  }
  return inClusterConnection(env, { readFile: read, ...(options.serviceAccountDir ? { dir: options.serviceAccountDir } : {}) });
}
