// Controller configuration, parsed once at start-up from the environment.
import { dirname } from 'node:path';
import { EnvReader, parseListen } from '../common/config-env.ts';
import { parseApiTls } from './api/tls-listener.ts';
import type { ApiTlsConfig } from './api/tls-listener.ts';
import type { ConfiguredKey } from './store/encryption-key.ts';
import { decodeKey } from './store/secret-cipher.ts';
import { parseListenerLimits } from './api/listener-limits.ts';
import type { ListenerLimits } from './api/listener-limits.ts';
import { readConfiguredAgentTokens } from './agents/configured-tokens.ts';
import type { ConfiguredAgentToken } from './agents/configured-tokens.ts';
import type { InjectionConfig } from './webhook/injector.ts';
import type { WebhookConfig } from './webhook/webhook-server.ts';
import { parseKubernetesMode, parseStoreMode } from './kubernetes/kubernetes-mode-config.ts';
import type { KubernetesModeConfig, StoreMode } from './kubernetes/kubernetes-mode-config.ts';

export interface ControllerConfig {
  /** SIDESTASH_STORE: the embedded sqlite file (default) or the Kubernetes API server. */
  store: StoreMode;
  /** Kubernetes mode's connection, namespaces, leader election (store: 'kubernetes' only). */
  kubernetes?: KubernetesModeConfig;
  listen: { host: string; port: number };
  /** HTTPS (given or generated certificate), or plain HTTP with SIDESTASH_INSECURE_HTTP=true. */
  tls: ApiTlsConfig;
  /** sqlite file of the embedded store. */
  databasePath: string;
  adminToken: string;
  /** Enrolment tokens from the environment and SIDESTASH_AGENT_TOKENS_FILE (API-issued ones live in the store). */
  agentTokens: ConfiguredAgentToken[];
  /** How long a Running session survives without word from its agent. */
  leaseMs: number;
  sweepIntervalMs: number;
  /** How long a Pending session waits while no online agent serves its target (then SIDESTASH_NO_AGENT). */
  pendingTimeoutMs: number;
  /** How late a scheduled run may start, spread per configuration (schedule-jitter.ts). */
  scheduleJitterMs: number;
  /** Seals Secret values at rest; absent: a key file beside the database (controller/store/encryption-key.ts). */
  secretEncryptionKey?: ConfiguredKey;
  /** Timeouts and the connection cap of each listener (API and webhook). */
  limits: ListenerLimits;
  /** The sidecar-injection webhook, when SIDESTASH_WEBHOOK_LISTEN is set. */
  webhook?: WebhookConfig;
  /** The Pushgateway the controller pushes session metrics to (controller/pushgateway/). */
  pushgatewayUrl?: string;
  /** Settings read but no longer used, for a warning at start-up. */
  deprecated: string[];
}

export function parseControllerConfig(env: Record<string, string | undefined> = process.env): ControllerConfig {
  const r = new EnvReader(env);
  const listen = parseListen(r.string('SIDESTASH_LISTEN', '127.0.0.1:7480')!, r.problems, 'SIDESTASH_LISTEN');
  const adminToken = r.required('SIDESTASH_ADMIN_TOKEN', 'bearer token for the API');
  r.check(16, 'SIDESTASH_ADMIN_TOKEN', adminToken);
  const databasePath = r.string('SIDESTASH_DB', '.sidestash/controller.db')!;
  const store = parseStoreMode(r);
  const kubernetes = store === 'kubernetes' ? parseKubernetesMode(r, env) : undefined;
  const config: ControllerConfig = {
    store,
    ...(kubernetes ? { kubernetes } : {}),
    listen,
    tls: parseApiTls(r, dirname(databasePath)),
    databasePath,
    adminToken,
    // Kubernetes mode: agents present ServiceAccount tokens (kubernetes-mode-config.ts refuses these variables).
    agentTokens: store === 'sqlite' ? readConfiguredAgentTokens(r) : [],
    leaseMs: r.durationMs('SIDESTASH_SESSION_LEASE', '60s'),
    sweepIntervalMs: r.durationMs('SIDESTASH_SWEEP_INTERVAL', '5s'),
    pendingTimeoutMs: r.durationMs('SIDESTASH_PENDING_TIMEOUT', '5m'),
    scheduleJitterMs: r.durationMs('SIDESTASH_SCHEDULE_JITTER', '30s', undefined, { allowZero: true }),
    limits: parseListenerLimits(r),
    deprecated: [],
  };
  const pushgateway = r.string('SIDESTASH_PUSHGATEWAY_URL');
  const agentPushgateway = r.string('SIDESTASH_AGENT_PUSHGATEWAY_URL');
  if (agentPushgateway !== undefined) {
    config.deprecated.push('SIDESTASH_AGENT_PUSHGATEWAY_URL: agents no longer push metrics; the controller does' + (pushgateway === undefined ? ', to this URL (set SIDESTASH_PUSHGATEWAY_URL instead)' : ' (to SIDESTASH_PUSHGATEWAY_URL)'));
  }
  const pgwUrl = pushgateway ?? agentPushgateway;
  if (pgwUrl !== undefined && pgwUrl !== '') {
    let parsed: URL | undefined;
    try {
      parsed = new URL(pgwUrl);
    } catch {
      // reported below
    }
    const setting = pushgateway === undefined ? 'SIDESTASH_AGENT_PUSHGATEWAY_URL' : 'SIDESTASH_PUSHGATEWAY_URL';
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.username || parsed.password || parsed.search || parsed.hash) {
      r.problems.push(`${setting}: must be an http:// or https:// URL without credentials, query or fragment (e.g. http://pushgateway:9091)`);
    } else config.pushgatewayUrl = pgwUrl;
  }
  const keyText = r.string('SIDESTASH_ENCRYPTION_KEY');
  if (keyText !== undefined) {
    const setting = env.SIDESTASH_ENCRYPTION_KEY_FILE ? `SIDESTASH_ENCRYPTION_KEY_FILE (${env.SIDESTASH_ENCRYPTION_KEY_FILE})` : 'SIDESTASH_ENCRYPTION_KEY';
    if (decodeKey(keyText)) config.secretEncryptionKey = { text: keyText, setting };
    else r.problems.push(`${setting}: must be base64 of 32 bytes (e.g. the output of: head -c 32 /dev/urandom | base64)`);
  }
  const webhookListen = r.string('SIDESTASH_WEBHOOK_LISTEN');
  if (webhookListen) {
    const injection: InjectionConfig = {
      image: r.required('SIDESTASH_AGENT_IMAGE', 'image of the injected agent'),
      controllerUrl: r.required('SIDESTASH_AGENT_CONTROLLER_URL', 'URL injected agents reach the controller at'),
      insecureHttp: config.tls.mode === 'insecure-http',
      tokenSecretName: r.string('SIDESTASH_AGENT_TOKEN_SECRET', 'sidestash-agent-token')!,
      nativeSidecar: (r.string('SIDESTASH_NATIVE_SIDECAR', 'true') ?? 'true') === 'true',
      ...(store === 'kubernetes' ? { serviceAccountToken: true } : {}),
    };
    if (!injection.insecureHttp && injection.controllerUrl.startsWith('http://')) r.problems.push('SIDESTASH_AGENT_CONTROLLER_URL: must be https:// (the API serves HTTPS unless SIDESTASH_INSECURE_HTTP=true)');
    const pull = r.string('SIDESTASH_AGENT_IMAGE_PULL_POLICY');
    if (pull) injection.imagePullPolicy = pull;
    const resources = r.string('SIDESTASH_AGENT_RESOURCES');
    if (resources) {
      try {
        injection.resources = JSON.parse(resources) as Record<string, unknown>;
      } catch {
        r.problems.push('SIDESTASH_AGENT_RESOURCES: must be JSON, e.g. {"limits":{"memory":"256Mi"}}');
      }
    }
    const webhook: WebhookConfig = {
      listen: parseListen(webhookListen, r.problems, 'SIDESTASH_WEBHOOK_LISTEN'),
      injection,
      dnsNames: r.list('SIDESTASH_WEBHOOK_DNS_NAMES'),
      stateDir: r.string('SIDESTASH_WEBHOOK_STATE_DIR', dirname(config.databasePath))!,
      limits: config.limits,
    };
    const certFile = r.string('SIDESTASH_WEBHOOK_CERT_FILE');
    const keyFile = r.string('SIDESTASH_WEBHOOK_KEY_FILE');
    if (certFile && keyFile) {
      webhook.certFile = certFile;
      webhook.keyFile = keyFile;
    } else if (certFile || keyFile) {
      r.problems.push('SIDESTASH_WEBHOOK_CERT_FILE and SIDESTASH_WEBHOOK_KEY_FILE: set both, or neither to let the controller generate a certificate');
    } else if (webhook.dnsNames.length === 0) {
      r.problems.push('SIDESTASH_WEBHOOK_DNS_NAMES: required when the controller generates the webhook certificate (the Service DNS names)');
    }
    const cfgName = r.string('SIDESTASH_WEBHOOK_CONFIGURATION');
    if (cfgName) webhook.configurationName = cfgName;
    config.webhook = webhook;
  }
  r.done('controller');
  return config;
}
