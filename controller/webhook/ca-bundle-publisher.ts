// Publishes the generated webhook CA into the MutatingWebhookConfiguration (every webhook's
// clientConfig.caBundle) through the Kubernetes API, with the pod's service account.
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'undici';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';

export interface KubeAccess {
  /** e.g. https://10.96.0.1:443 */
  apiUrl: string;
  token: string;
  caCert?: string;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export async function inClusterAccess(env: Record<string, string | undefined> = process.env): Promise<KubeAccess> {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new SidestashError(ErrorCodes.INVALID_CONFIG, 'not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST unset); set SIDESTASH_WEBHOOK_CERT_FILE instead');
  const [token, caCert] = await Promise.all([readFile(`${SA_DIR}/token`, 'utf8'), readFile(`${SA_DIR}/ca.crt`, 'utf8')]);
  return { apiUrl: `https://${host.includes(':') ? `[${host}]` : host}:${port}`, token: token.trim(), caCert };
}

export async function publishCaBundle(kube: KubeAccess, configName: string, caCertPem: string): Promise<number> {
  const dispatcher = new Agent({ connect: kube.caCert ? { ca: kube.caCert } : {} });
  try {
    const path = `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${encodeURIComponent(configName)}`;
    const headers = { authorization: `Bearer ${kube.token}`, accept: 'application/json' };
    const got = await request(`${kube.apiUrl}${path}`, { dispatcher, headers });
    const body = (await got.body.json()) as { webhooks?: { clientConfig?: { caBundle?: string } }[] };
    if (got.statusCode !== 200) throw new SidestashError(ErrorCodes.BACKEND_IO, `reading MutatingWebhookConfiguration ${configName}: HTTP ${got.statusCode}`, { retryable: got.statusCode >= 500 });
    const bundle = Buffer.from(caCertPem).toString('base64');
    const ops = (body.webhooks ?? []).flatMap((w, i) => (w.clientConfig?.caBundle === bundle ? [] : [{ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: bundle }]));
    if (ops.length === 0) return 0;
    const res = await request(`${kube.apiUrl}${path}`, { dispatcher, method: 'PATCH', headers: { ...headers, 'content-type': 'application/json-patch+json' }, body: JSON.stringify(ops) });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new SidestashError(ErrorCodes.BACKEND_IO, `patching MutatingWebhookConfiguration ${configName}: HTTP ${res.statusCode} ${text.slice(0, 200)}`, { retryable: res.statusCode >= 500 });
    return ops.length;
  } finally {
    await dispatcher.close();
  }
}
