// The Helm chart with the real helm binary: lint and template for the default and feature
// values files, every rendered object validated against the Kubernetes schemas offline.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseControllerConfig } from '../controller/config.ts';
import { AGENT_CONTAINER, decideInjection } from '../controller/webhook/injector.ts';
import { CRD_KINDS, parseManifests, toolPath, validateKube } from './helpers/kube-validate.ts';
import type { KubeObject } from './helpers/kube-validate.ts';

const run = promisify(execFile);
const CHART = join(import.meta.dirname, '..', 'charts', 'sidestash');
const helm = toolPath('helm');

async function render(valuesFile: string | undefined, kubeVersion: string, extra: string[] = []): Promise<KubeObject[]> {
  const { stdout } = await run(helm, ['template', 'rel', CHART, '--namespace', 'sidestash', '--kube-version', kubeVersion, ...(valuesFile ? ['-f', valuesFile] : []), ...extra], { maxBuffer: 16 * 1024 * 1024 });
  return parseManifests(stdout);
}

const valuesFiles = [...(await readdir(join(CHART, 'ci'))).map((f) => join(CHART, 'ci', f)), ...(await readdir(join(CHART, 'examples'))).filter((f) => f.startsWith('values-')).map((f) => join(CHART, 'examples', f))];

describe('helm chart', () => {
  for (const file of valuesFiles) {
    it(`lints and renders valid manifests with ${file.slice(CHART.length + 1)}`, async () => {
      await run(helm, ['lint', '--strict', CHART, '-f', file, '--kube-version', '1.30.0']);
      const objects = await render(file, '1.30.0');
      assert.ok(objects.some((o) => o.kind === 'Deployment'));
      for (const o of objects) {
        assert.equal(o.metadata.labels?.['app.kubernetes.io/name'], 'sidestash', `${o.kind} ${o.metadata.name} labels`);
        assert.ok(o.metadata.labels?.['app.kubernetes.io/instance']);
        if (CRD_KINDS.has(o.kind)) continue;
        await validateKube(o).catch((err: Error) => assert.fail(`${o.kind} ${o.metadata.name}: ${err.message}`));
      }
    });
  }

  it('runs the controller with secure defaults, probes and persistent state', async () => {
    const objects = await render(undefined, '1.30.0');
    const dep = objects.find((o) => o.kind === 'Deployment') as unknown as { spec: { strategy: { type: string }; template: { spec: { securityContext: Record<string, unknown>; containers: Record<string, any>[]; volumes: Record<string, any>[] } } } };
    const pod = dep.spec.template.spec;
    const c = pod.containers[0]!;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
    for (const p of ['livenessProbe', 'readinessProbe', 'startupProbe']) assert.ok(c[p], p);
    assert.ok(c.resources.limits.memory);
    assert.equal(dep.spec.strategy.type, 'Recreate');
    assert.ok(pod.volumes.some((v) => v.persistentVolumeClaim));
    assert.ok(objects.some((o) => o.kind === 'PersistentVolumeClaim'));
    const webhook = objects.find((o) => o.kind === 'MutatingWebhookConfiguration') as unknown as { webhooks: { failurePolicy: string; sideEffects: string; admissionReviewVersions: string[] }[] };
    assert.equal(webhook.webhooks[0]!.failurePolicy, 'Ignore');
    assert.deepEqual(webhook.webhooks[0]!.admissionReviewVersions, ['v1']);
    const env = Object.fromEntries((c.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
    assert.equal(env.SIDESTASH_NATIVE_SIDECAR, 'true');
    assert.equal(env.SIDESTASH_PENDING_TIMEOUT, '5m');
    assert.ok(!('SIDESTASH_AGENT_BOOTSTRAP_TOKEN' in env), 'no single token for every namespace');
    // Its own young generation, not the agent's 1 MiB from the image.
    assert.equal(env.NODE_OPTIONS, '--max-semi-space-size=16 --max-old-space-size=128', 'the old generation at half the 256Mi limit');
  });

  it("sizes the controller's V8 old generation at half its memory limit, in every unit, and leaves it to Node without a limit", async () => {
    const nodeOptions = async (extra: string[]): Promise<string | undefined> => {
      const dep = (await render(undefined, '1.30.0', extra)).find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } };
      return dep.spec.template.spec.containers[0]!.env.find((e) => e.name === 'NODE_OPTIONS')?.value;
    };
    for (const [limit, want] of [['1Gi', ' --max-old-space-size=512'], ['512Mi', ' --max-old-space-size=256'], ['1G', ' --max-old-space-size=476'], ['300M', ' --max-old-space-size=143'], ['268435456', ' --max-old-space-size=128'], ['100Mi', ' --max-old-space-size=50'], ['32Mi', ''], ['1.5Gi', ''], ['null', '']] as const) {
      assert.equal(await nodeOptions(['--set', `controller.resources.limits.memory=${limit}`]), `--max-semi-space-size=16${want}`, limit);
    }
  });

  it('gives each agent namespace its own enrolment token, which the controller knows by hash and scope', async () => {
    const objects = await render(undefined, '1.30.0', ['--set', 'agent.namespaces={default,shop}']);
    const secrets = objects.filter((o) => o.kind === 'Secret') as unknown as { metadata: { name: string; namespace: string }; data?: Record<string, string>; stringData?: Record<string, string> }[];
    const tokens = new Map(secrets.filter((s) => s.data?.token).map((s) => [s.metadata.namespace, Buffer.from(s.data!.token!, 'base64').toString()]));
    assert.deepEqual([...tokens.keys()].sort(), ['default', 'shop']);
    assert.notEqual(tokens.get('default'), tokens.get('shop'), 'one token per namespace');
    assert.ok(!secrets.some((s) => s.data?.['agent-bootstrap-token']), 'no shared bootstrap token');
    const enrolment = secrets.find((s) => s.stringData?.['tokens.json'])!;
    assert.equal(enrolment.metadata.namespace, 'sidestash');
    const { parseAgentTokensFile } = await import('../controller/agents/configured-tokens.ts');
    const problems: string[] = [];
    const entries = parseAgentTokensFile(enrolment.stringData!['tokens.json']!, 'tokens.json', problems);
    assert.deepEqual(problems, []);
    const { createHash } = await import('node:crypto');
    for (const ns of ['default', 'shop']) {
      const e = entries.find((x) => x.namespace === ns)!;
      assert.equal(e.tokenSha256, createHash('sha256').update(tokens.get(ns)!).digest('hex'), `${ns}: the file holds the hash of that namespace's token`);
      assert.equal(e.targets, undefined);
    }
    assert.ok(!enrolment.stringData!['tokens.json']!.includes(tokens.get('default')!), 'the controller gets hashes, not tokens');
    const dep = objects.find((o) => o.kind === 'Deployment') as any;
    const c = dep.spec.template.spec.containers[0];
    const file = (c.env as { name: string; value?: string }[]).find((e) => e.name === 'SIDESTASH_AGENT_TOKENS_FILE')!.value!;
    const mount = (c.volumeMounts as { name: string; mountPath: string }[]).find((m) => file.startsWith(`${m.mountPath}/`))!;
    const volume = (dep.spec.template.spec.volumes as { name: string; secret?: { secretName: string } }[]).find((v) => v.name === mount.name)!;
    assert.equal(volume.secret?.secretName, enrolment.metadata.name);
    assert.ok(dep.spec.template.metadata.annotations['checksum/agent-enrolment'], 'the controller restarts when the tokens change');
  });

  // Native sidecars (restartPolicy: Always init containers) are beta and on by default from 1.29;
  // in 1.28 they are alpha behind the SidecarContainers feature gate, so "auto" must not use them.
  // The rendered controller's webhook settings go through the controller's own configuration
  // parser and injector: the test sees the agent container the cluster would get.
  for (const [kubeVersion, native] of [['1.27.0', false], ['1.28.0', false], ['1.28.15', false], ['1.29.0', true], ['v1.29.0-eks-1', true], ['1.30.0', true]] as const) {
    it(`injects the agent ${native ? 'as a native sidecar' : 'as a plain container'} on Kubernetes ${kubeVersion}`, async () => {
      const objects = await render(undefined, kubeVersion, ['--set', 'webhook.enabled=true']);
      const env = (objects.find((o) => o.kind === 'Deployment') as any).spec.template.spec.containers[0].env as { name: string; value?: string }[];
      assert.equal(env.find((e) => e.name === 'SIDESTASH_NATIVE_SIDECAR')?.value, String(native));
      // The webhook's settings as rendered (files and secret references are not needed by the injector).
      const webhookEnv = Object.fromEntries(env.filter((e) => e.value !== undefined && /^SIDESTASH_(AGENT_|WEBHOOK_|NATIVE_SIDECAR$)/.test(e.name) && !e.name.endsWith('_FILE')).map((e) => [e.name, e.value]));
      const config = parseControllerConfig({ ...webhookEnv, SIDESTASH_ADMIN_TOKEN: 'chart-test-admin-token-0123' });
      assert.ok(config.webhook, 'the chart enables the webhook');
      const pod = { metadata: { name: 'db-0', annotations: { 'sidestash.io/inject': 'true', 'sidestash.io/target': 'shop-db' } }, spec: { containers: [{ name: 'mariadb' }] } };
      const decision = decideInjection(pod, 'shop', config.webhook.injection);
      assert.ok(decision.inject, JSON.stringify(decision));
      const containerOf = (value: unknown): { name?: string; restartPolicy?: string } => (Array.isArray(value) ? value[0] : value) ?? {};
      const added = decision.patch.filter((op) => containerOf(op.value).name === AGENT_CONTAINER);
      assert.equal(added.length, 1, JSON.stringify(decision.patch));
      const op = added[0]!;
      const agent = containerOf(op.value);
      if (native) {
        assert.equal(op.path, '/spec/initContainers', 'a native sidecar is an init container');
        assert.equal(agent.restartPolicy, 'Always');
      } else {
        assert.equal(op.path, '/spec/containers/-', 'a plain container next to the database');
        assert.equal(agent.restartPolicy, undefined);
      }
    });
  }

  it('gives the controller the Pushgateway (metrics.pushgatewayUrl, or the deprecated agent.pushgatewayUrl); agents get none', async () => {
    const envOf = (objects: KubeObject[]): Record<string, string | undefined> =>
      Object.fromEntries(((objects.find((o) => o.kind === 'Deployment') as any).spec.template.spec.containers[0].env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
    const current = envOf(await render(join(CHART, 'ci', 'monitoring-values.yaml'), '1.30.0', ['--set', 'webhook.enabled=true']));
    assert.equal(current.SIDESTASH_PUSHGATEWAY_URL, 'http://prometheus-pushgateway.monitoring.svc:9091');
    assert.equal(current.SIDESTASH_AGENT_PUSHGATEWAY_URL, undefined);
    const deprecated = envOf(await render(join(CHART, 'ci', 'cert-manager-values.yaml'), '1.30.0'));
    assert.equal(deprecated.SIDESTASH_PUSHGATEWAY_URL, 'http://pushgateway.monitoring.svc:9091');
    assert.equal(envOf(await render(undefined, '1.30.0')).SIDESTASH_PUSHGATEWAY_URL, undefined);
  });

  it('uses cert-manager when asked', async () => {
    const cm = await render(join(CHART, 'ci', 'cert-manager-values.yaml'), '1.30.0');
    assert.ok(cm.some((o) => o.kind === 'Certificate'));
    const mwc = cm.find((o) => o.kind === 'MutatingWebhookConfiguration')!;
    assert.match(mwc.metadata.annotations?.['cert-manager.io/inject-ca-from'] ?? '', /^sidestash\/rel-sidestash-webhook$/);
    assert.ok(!cm.some((o) => o.kind === 'ClusterRole'), 'no API access needed with cert-manager');
  });

  it('serves the API over HTTPS with a chart-generated CA, gives agents an https URL, and keys the at-rest encryption', async () => {
    const objects = await render(join(CHART, 'ci', 'monitoring-values.yaml'), '1.30.0', ['--set', 'webhook.enabled=true']);
    const secret = (name: string) => objects.find((o) => o.kind === 'Secret' && o.metadata.name === name) as unknown as { type: string; metadata: { annotations: Record<string, string> }; data: Record<string, string> };
    const tls = secret('rel-sidestash-api-tls');
    assert.equal(tls.type, 'kubernetes.io/tls');
    assert.equal(tls.metadata.annotations['helm.sh/resource-policy'], 'keep');
    const ca = new X509Certificate(Buffer.from(tls.data['ca.crt']!, 'base64'));
    const cert = new X509Certificate(Buffer.from(tls.data['tls.crt']!, 'base64'));
    assert.ok(ca.ca && cert.verify(ca.publicKey), 'the certificate is signed by the CA');
    for (const host of ['rel-sidestash.sidestash.svc', 'rel-sidestash.sidestash.svc.cluster.local', 'localhost']) assert.ok(cert.checkHost(host), host);
    assert.ok(cert.checkIP('127.0.0.1'));
    assert.ok(createPrivateKey(Buffer.from(tls.data['tls.key']!, 'base64').toString()));
    const enc = secret('rel-sidestash-encryption');
    assert.equal(enc.metadata.annotations['helm.sh/resource-policy'], 'keep');
    assert.equal(Buffer.from(Buffer.from(enc.data.key!, 'base64').toString(), 'base64').length, 32, 'base64 of 32 bytes');

    const dep = objects.find((o) => o.kind === 'Deployment') as any;
    const c = dep.spec.template.spec.containers[0];
    const env = Object.fromEntries((c.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
    assert.equal(env.SIDESTASH_INSECURE_HTTP, undefined);
    assert.equal(env.SIDESTASH_AGENT_CONTROLLER_URL, 'https://rel-sidestash.sidestash.svc:7480');
    const mounts = Object.fromEntries((c.volumeMounts as { name: string; mountPath: string }[]).map((m) => [m.name, m.mountPath]));
    const volumes = Object.fromEntries((dep.spec.template.spec.volumes as { name: string; secret?: { secretName: string } }[]).map((v) => [v.name, v.secret?.secretName]));
    assert.equal(volumes['api-tls'], 'rel-sidestash-api-tls');
    assert.equal(volumes['encryption-key'], 'rel-sidestash-encryption');
    for (const [v, file] of [['api-tls', 'SIDESTASH_TLS_CERT_FILE'], ['api-tls', 'SIDESTASH_TLS_KEY_FILE'], ['api-tls', 'SIDESTASH_TLS_CA_FILE'], ['encryption-key', 'SIDESTASH_ENCRYPTION_KEY_FILE']] as const) {
      assert.ok(env[file]?.startsWith(`${mounts[v]}/`), `${file}=${env[file]} lies in the ${v} mount`);
    }
    for (const p of ['livenessProbe', 'readinessProbe', 'startupProbe']) assert.equal(c[p].httpGet.scheme, 'HTTPS', p);
    const sm = objects.find((o) => o.kind === 'ServiceMonitor' && o.metadata.name === 'rel-sidestash') as any;
    assert.equal(sm.spec.endpoints[0].scheme, 'https');
    assert.deepEqual(sm.spec.endpoints[0].tlsConfig.ca, { secret: { name: 'rel-sidestash-api-tls', key: 'ca.crt' } });
    // The controller's `namespace` label is its configurations' (alerts group by it), not the
    // scraped Service's, which the Operator would otherwise put there.
    assert.equal(sm.spec.endpoints[0].honorLabels, true);

    const given = await render(undefined, '1.30.0', ['--set', 'controller.tls.existingSecret=my-tls', '--set', 'encryption.existingSecret=my-key']);
    assert.ok(!given.some((o) => o.kind === 'Secret' && /api-tls|encryption/.test(o.metadata.name)), 'no generated Secrets when given');
    const gvol = Object.fromEntries(((given.find((o) => o.kind === 'Deployment') as any).spec.template.spec.volumes as { name: string; secret?: { secretName: string } }[]).map((v) => [v.name, v.secret?.secretName]));
    assert.deepEqual([gvol['api-tls'], gvol['encryption-key']], ['my-tls', 'my-key']);
  });

  describe('mode: kubernetes', () => {
    const kube = ['--set', 'mode=kubernetes', '--set', 'agent.namespaces={shop,billing}'];
    const deploymentOf = (objects: KubeObject[]): any => objects.find((o) => o.kind === 'Deployment');
    const envOf = (objects: KubeObject[]): Record<string, unknown> => Object.fromEntries((deploymentOf(objects).spec.template.spec.containers[0].env as any[]).map((e) => [e.name, e.value ?? e.valueFrom]));
    const rulesOf = (o: KubeObject | undefined): { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[] => (o as any)?.rules ?? [];

    it('serves agent.namespaces with a Role each; the ClusterRole holds only TokenReviews', async () => {
      const objects = await render(undefined, '1.30.0', kube);
      assert.equal(envOf(objects).SIDESTASH_WATCH_NAMESPACES, 'shop,billing');
      const roles = objects.filter((o) => o.kind === 'Role');
      assert.deepEqual(roles.map((r) => `${r.metadata.namespace}/${r.metadata.name}`).sort(), ['billing/rel-sidestash-controller', 'shop/rel-sidestash-controller', 'sidestash/rel-sidestash-leader-election']);
      const bindings = objects.filter((o) => o.kind === 'RoleBinding') as any[];
      for (const b of bindings) assert.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: 'rel-sidestash', namespace: 'sidestash' }]);
      const clusterRoles = objects.filter((o) => o.kind === 'ClusterRole');
      assert.deepEqual(clusterRoles.map((r) => r.metadata.name), ['rel-sidestash-controller'], 'no webhook-ca ClusterRole: nothing patches the caBundle');
      assert.deepEqual(rulesOf(clusterRoles[0]), [{ apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] }]);
      const secretsRule = rulesOf(roles.find((r) => r.metadata.namespace === 'shop')).find((r) => r.resources.includes('secrets'))!;
      assert.deepEqual(secretsRule.verbs, ['get', 'list', 'watch']);
      const lease = rulesOf(roles.find((r) => r.metadata.name.endsWith('leader-election')));
      assert.deepEqual(lease.find((r) => r.verbs.includes('update')), { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['rel-sidestash-controller'], verbs: ['get', 'update'] });
      assert.equal(envOf(objects).SIDESTASH_LEADER_ELECTION_NAME, 'rel-sidestash-controller');
    });

    it('with allNamespaces: a ClusterRole for every namespace, no per-namespace Roles, SIDESTASH_WATCH_NAMESPACES empty; secretWrites adds Secret writes', async () => {
      const objects = await render(undefined, '1.30.0', [...kube, '--set', 'kubernetes.allNamespaces=true']);
      assert.equal(envOf(objects).SIDESTASH_WATCH_NAMESPACES, '');
      assert.deepEqual(objects.filter((o) => o.kind === 'Role').map((r) => r.metadata.name), ['rel-sidestash-leader-election']);
      const rules = rulesOf(objects.find((o) => o.kind === 'ClusterRole'));
      assert.deepEqual(rules.find((r) => r.resources.includes('secrets'))?.verbs, ['get', 'list', 'watch']);
      assert.ok(rules.some((r) => r.apiGroups.includes('sidestash.io') && r.resources.includes('backupsessions/status')));
      const writes = await render(undefined, '1.30.0', [...kube, '--set', 'kubernetes.secretWrites=true']);
      const role = writes.find((o) => o.kind === 'Role' && o.metadata.namespace === 'shop');
      assert.deepEqual(rulesOf(role).find((r) => r.resources.includes('secrets'))?.verbs, ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']);
    });

    it("kubedbAppBindings: get (only) on KubeDB's AppBindings in each served namespace when true, or auto and the cluster serves appcatalog.appscode.com/v1alpha1", async () => {
      const kubedbRule = (objects: KubeObject[]) => rulesOf(objects.find((o) => o.kind === 'Role' && o.metadata.namespace === 'shop')).find((r) => r.apiGroups.includes('appcatalog.appscode.com'));
      const want = { apiGroups: ['appcatalog.appscode.com'], resources: ['appbindings'], verbs: ['get'] };
      assert.equal(kubedbRule(await render(undefined, '1.30.0', kube)), undefined, 'auto, not served: no rule');
      assert.deepEqual(kubedbRule(await render(undefined, '1.30.0', [...kube, '--api-versions', 'appcatalog.appscode.com/v1alpha1'])), want);
      assert.deepEqual(kubedbRule(await render(undefined, '1.30.0', [...kube, '--set', 'kubernetes.kubedbAppBindings=true'])), want);
      assert.equal(kubedbRule(await render(undefined, '1.30.0', [...kube, '--set', 'kubernetes.kubedbAppBindings=false', '--api-versions', 'appcatalog.appscode.com/v1alpha1'])), undefined);
      const all = await render(undefined, '1.30.0', [...kube, '--set', 'kubernetes.allNamespaces=true', '--set', 'kubernetes.kubedbAppBindings=true']);
      assert.deepEqual(rulesOf(all.find((o) => o.kind === 'ClusterRole')).find((r) => r.apiGroups.includes('appcatalog.appscode.com')), want);
      await assert.rejects(render(undefined, '1.30.0', [...kube, '--set', 'kubernetes.kubedbAppBindings=maybe']), /kubedbAppBindings/);
    });

    it('shares a Helm-generated webhook certificate whose CA is the caBundle; the controller serves it and publishes nothing', async () => {
      const objects = await render(undefined, '1.30.0', kube);
      const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'rel-sidestash-webhook-tls') as any;
      assert.equal(secret.type, 'kubernetes.io/tls');
      const mwc = objects.find((o) => o.kind === 'MutatingWebhookConfiguration') as any;
      assert.equal(mwc.webhooks[0].clientConfig.caBundle, secret.data['ca.crt']);
      // Only the served namespaces' pods reach the webhook (and never the release namespace's).
      const selector = mwc.webhooks[0].namespaceSelector.matchExpressions as { key: string; operator: string; values: string[] }[];
      assert.deepEqual(selector.find((e) => e.operator === 'In'), { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['shop', 'billing'] });
      assert.ok(selector.find((e) => e.operator === 'NotIn')!.values.includes('sidestash'));
      const ca = new X509Certificate(Buffer.from(secret.data['ca.crt'], 'base64'));
      const cert = new X509Certificate(Buffer.from(secret.data['tls.crt'], 'base64'));
      assert.ok(ca.ca && cert.verify(ca.publicKey));
      for (const host of ['rel-sidestash.sidestash.svc', 'rel-sidestash.sidestash.svc.cluster.local']) assert.ok(cert.checkHost(host), host);
      const dep = deploymentOf(objects);
      const volume = (dep.spec.template.spec.volumes as any[]).find((v) => v.secret?.secretName === 'rel-sidestash-webhook-tls');
      const mount = (dep.spec.template.spec.containers[0].volumeMounts as any[]).find((m) => m.name === volume.name);
      const env = envOf(objects) as Record<string, string>;
      assert.equal(env.SIDESTASH_WEBHOOK_CERT_FILE, `${mount.mountPath}/tls.crt`);
      assert.equal(env.SIDESTASH_WEBHOOK_KEY_FILE, `${mount.mountPath}/tls.key`);
      // The controller's own parser: a given certificate, no configuration to patch.
      const webhookEnv = Object.fromEntries(Object.entries(env).filter(([k, v]) => typeof v === 'string' && /^SIDESTASH_(AGENT_|WEBHOOK_|NATIVE_SIDECAR$)/.test(k)));
      const config = parseControllerConfig({ ...webhookEnv, SIDESTASH_ADMIN_TOKEN: 'chart-test-admin-token-0123' } as Record<string, string>);
      assert.equal(config.webhook?.certFile, env.SIDESTASH_WEBHOOK_CERT_FILE);
      assert.equal(config.webhook?.configurationName, undefined, 'nothing patches the caBundle');
      // The sqlite mode's default is unchanged: the controller generates and publishes its CA.
      const sqlite = await render(undefined, '1.30.0');
      assert.equal((sqlite.find((o) => o.kind === 'MutatingWebhookConfiguration') as any).webhooks[0].clientConfig.caBundle, undefined);
      assert.ok(!sqlite.some((o) => o.metadata.name === 'rel-sidestash-webhook-tls'));
      assert.equal(envOf(sqlite).SIDESTASH_WEBHOOK_CONFIGURATION, 'rel-sidestash-injector');
      // webhook.tls.mode helm works in sqlite mode too.
      const helmTls = await render(undefined, '1.30.0', ['--set', 'webhook.tls.mode=helm']);
      assert.ok((helmTls.find((o) => o.kind === 'MutatingWebhookConfiguration') as any).webhooks[0].clientConfig.caBundle);
      assert.equal(envOf(helmTls).SIDESTASH_WEBHOOK_CONFIGURATION, undefined);
      assert.ok(!helmTls.some((o) => o.kind === 'ClusterRole'));
    });

    it('runs replicas with a rolling update, a PodDisruptionBudget and spread; none of the sqlite state', async () => {
      const objects = await render(undefined, '1.30.0', kube);
      const dep = deploymentOf(objects);
      assert.equal(dep.spec.replicas, 2);
      assert.deepEqual(dep.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
      const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget') as any;
      assert.equal(pdb.spec.minAvailable, 1);
      assert.deepEqual(pdb.spec.selector.matchLabels, dep.spec.selector.matchLabels);
      assert.ok(dep.spec.template.spec.affinity.podAntiAffinity);
      for (const kind of ['PersistentVolumeClaim']) assert.ok(!objects.some((o) => o.kind === kind), kind);
      assert.deepEqual(objects.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name).sort(), ['rel-sidestash-api-tls', 'rel-sidestash-auth', 'rel-sidestash-webhook-tls']);
      const env = envOf(objects);
      assert.equal(env.SIDESTASH_STORE, 'kubernetes');
      for (const v of ['SIDESTASH_DB', 'SIDESTASH_ENCRYPTION_KEY_FILE', 'SIDESTASH_AGENT_TOKENS_FILE', 'SIDESTASH_AGENT_TOKEN_SECRET']) assert.ok(!(v in env), v);
      assert.equal(dep.spec.template.metadata.annotations, undefined, 'no enrolment checksum');
      // Given affinity replaces the chart's spread; one replica has no PodDisruptionBudget.
      const own = await render(undefined, '1.30.0', [...kube, '--set', 'kubernetes.replicas=1', '--set', 'controller.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=pool', '--set', 'controller.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator=Exists']);
      assert.equal(deploymentOf(own).spec.template.spec.affinity.podAntiAffinity, undefined);
      assert.equal(deploymentOf(own).spec.template.spec.topologySpreadConstraints, undefined);
      assert.ok(!own.some((o) => o.kind === 'PodDisruptionBudget'));
      // The sqlite mode ignores kubernetes.*: one replica, Recreate.
      const sqlite = deploymentOf(await render(undefined, '1.30.0', ['--set', 'kubernetes.replicas=5']));
      assert.equal(sqlite.spec.replicas, 1);
      assert.equal(sqlite.spec.strategy.type, 'Recreate');
    });

    it('refuses what cannot work, saying why', async () => {
      await assert.rejects(render(undefined, '1.30.0', [...kube, '--set', 'webhook.tls.mode=controller']), /webhook\.tls\.mode: "controller" cannot be used with mode: kubernetes/);
      await assert.rejects(render(undefined, '1.30.0', [...kube, '--set', 'kubernetes.podDisruptionBudget.minAvailable=2']), /minAvailable: must be less than kubernetes\.replicas/);
      await assert.rejects(render(undefined, '1.30.0', ['--set', 'mode=etcd']), /mode/);
      await assert.rejects(render(undefined, '1.30.0', [...kube, '--set', 'kubernetes.replicas=0']), /replicas/);
      await assert.rejects(render(undefined, '1.30.0', [...kube, '--set', 'kubernetes.leaderElection.leaseName=Bad_Name']), /leaseName/);
    });
  });

  it('refuses invalid values with the field named', async () => {
    await assert.rejects(render(undefined, '1.30.0', ['--set', 'webhook.failurePolicy=Sometimes']), /failurePolicy/);
    await assert.rejects(render(undefined, '1.30.0', ['--set', 'controller.colour=blue']), /colour/);
  });
});
