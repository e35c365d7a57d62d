// Agent configuration, parsed once at start-up from the environment.
import { hostname } from 'node:os';
import { EnvReader } from '../common/config-env.ts';
import { parseControllerTls } from './controller-tls.ts';
import type { ControllerTlsConfig } from './controller-tls.ts';
import { resolveStdbuf } from './stdbuf.ts';
import { tokenFileProblem } from './registration-token.ts';
import { parseBackendSettings } from './backend-settings.ts';
import type { BackendSettings } from './backend-settings.ts';
import { parseOfflineSettings } from './offline/offline-settings.ts';
import type { OfflineSettings } from './offline/offline-settings.ts';

export interface AgentConfig extends ControllerTlsConfig, BackendSettings {
  controllerUrl: string;
  /** SIDESTASH_AGENT_BOOTSTRAP_TOKEN (sqlite mode); '' when tokenFile is set. */
  bootstrapToken: string;
  /** SIDESTASH_AGENT_TOKEN_FILE (Kubernetes mode): a projected ServiceAccount token, re-read on every registration (the kubelet rotates it). */
  tokenFile?: string;
  name: string;
  /** The agent's namespace (SIDESTASH_AGENT_NAMESPACE; the webhook sets the pod's); identity is namespace/name. */
  namespace: string;
  /** AppBindings served, "namespace/name". */
  targets: string[];
  progressIntervalMs: number;
  mariadbDumpPath: string;
  mariadbPath: string;
  /** coreutils' stdbuf, which gives mariadb-dump a large stdout buffer; absent: run it plainly. */
  stdbufPath?: string;
  /** Where the short-lived client option files go (tmpfs in Kubernetes). */
  tmpDir: string;
  /** SIDESTASH_PUSHGATEWAY_URL, which agents no longer use (the controller pushes): warned about. */
  ignoredPushgatewayUrl?: string;
  /** Edge autonomy (agent/offline/): on with SIDESTASH_STATE_DIR. */
  offline?: OfflineSettings;
}

export function parseAgentConfig(env: Record<string, string | undefined> = process.env): AgentConfig {
  const r = new EnvReader(env);
  const controllerUrl = r.required('SIDESTASH_CONTROLLER_URL', 'e.g. https://sidestash.sidestash.svc:7480');
  if (controllerUrl && !/^https?:\/\/[^/]+/.test(controllerUrl)) r.problems.push(`SIDESTASH_CONTROLLER_URL: ${JSON.stringify(controllerUrl)} is not an http(s) URL`);
  const tokenFile = r.env('SIDESTASH_AGENT_TOKEN_FILE');
  const hasBootstrap = r.env('SIDESTASH_AGENT_BOOTSTRAP_TOKEN') !== undefined || r.env('SIDESTASH_AGENT_BOOTSTRAP_TOKEN_FILE') !== undefined;
  let bootstrapToken = '';
  if (tokenFile !== undefined && hasBootstrap) r.problems.push('SIDESTASH_AGENT_TOKEN_FILE and SIDESTASH_AGENT_BOOTSTRAP_TOKEN: set one (the ServiceAccount token file in Kubernetes mode, the enrolment token in sqlite mode), not both');
  else if (tokenFile !== undefined) {
    const problem = tokenFileProblem(tokenFile);
    if (problem) r.problems.push(`SIDESTASH_AGENT_TOKEN_FILE: ${problem}`);
  } else bootstrapToken = r.required('SIDESTASH_AGENT_BOOTSTRAP_TOKEN', 'token to register with the controller; or SIDESTASH_AGENT_TOKEN_FILE in Kubernetes mode');
  const name = r.string('SIDESTASH_AGENT_NAME', hostname().toLowerCase())!;
  if (!/^[a-z0-9][-a-z0-9.]{0,252}$/.test(name)) r.problems.push(`SIDESTASH_AGENT_NAME: ${JSON.stringify(name)} must be a lowercase DNS name`);
  const namespace = r.string('SIDESTASH_AGENT_NAMESPACE', 'default')!;
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) r.problems.push(`SIDESTASH_AGENT_NAMESPACE: ${JSON.stringify(namespace)} is not a namespace name`);
  const targets = r.list('SIDESTASH_AGENT_TARGETS');
  if (targets.length === 0) r.problems.push('SIDESTASH_AGENT_TARGETS: required (comma-separated "namespace/appbinding")');
  for (const t of targets) {
    if (!/^[a-z0-9][-a-z0-9.]*\/[a-z0-9][-a-z0-9.]*$/.test(t)) r.problems.push(`SIDESTASH_AGENT_TARGETS: ${JSON.stringify(t)} is not "namespace/appbinding"`);
    else if (!t.startsWith(`${namespace}/`)) r.problems.push(`SIDESTASH_AGENT_TARGETS: ${JSON.stringify(t)} is not in the agent's namespace ${JSON.stringify(namespace)} (SIDESTASH_AGENT_NAMESPACE); an agent serves its own namespace's AppBindings`);
  }
  const config: AgentConfig = {
    ...parseControllerTls(r, env, controllerUrl),
    controllerUrl: controllerUrl.replace(/\/+$/, ''),
    bootstrapToken,
    ...(tokenFile !== undefined ? { tokenFile } : {}),
    name,
    namespace,
    targets,
    progressIntervalMs: r.durationMs('SIDESTASH_PROGRESS_INTERVAL', '2s'),
    mariadbDumpPath: r.string('SIDESTASH_MARIADB_DUMP', 'mariadb-dump')!,
    mariadbPath: r.string('SIDESTASH_MARIADB', 'mariadb')!,
    tmpDir: r.string('SIDESTASH_TMPDIR', env.TMPDIR ?? '/tmp')!,
    ...parseBackendSettings(r),
  };
  const stdbuf = resolveStdbuf(r.string('SIDESTASH_STDBUF', 'auto')!, env.PATH);
  if (stdbuf) config.stdbufPath = stdbuf;
  const offline = parseOfflineSettings(r, bootstrapToken);
  if (offline) config.offline = offline;
  const pushgateway = r.string('SIDESTASH_PUSHGATEWAY_URL');
  if (pushgateway) config.ignoredPushgatewayUrl = pushgateway;
  r.done('agent');
  return config;
}

/** The agent's identity, "namespace/name" (unique per namespace; what the controller knows it by). */
export function agentIdentity(config: Pick<AgentConfig, 'namespace' | 'name'>): string {
  return `${config.namespace}/${config.name}`;
}
