// A kubeconfig that authenticates as a ServiceAccount (a token from `kubectl create token`), so a
// controller process on the host has exactly the RBAC the chart gives its pods: a missing
// permission shows up as a refusal in the test, not only in `kubectl auth can-i`.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeApiServer } from './kube-apiserver.ts';

/** Writes `<dir>/kubeconfig-<namespace>-<serviceAccount>` and returns its path. */
export async function serviceAccountKubeconfig(kube: KubeApiServer, namespace: string, serviceAccount: string, dir: string, duration = '2h'): Promise<string> {
  const token = (await kube.kubectlOk(['-n', namespace, 'create', 'token', serviceAccount, '--duration', duration])).trim();
  if (!token) throw new Error(`kubectl create token ${namespace}/${serviceAccount} printed no token`);
  const file = join(dir, `kubeconfig-${namespace}-${serviceAccount}`);
  await writeFile(file, [
    'apiVersion: v1', 'kind: Config', 'clusters:', '- name: test', '  cluster:', `    server: ${kube.url}`, `    certificate-authority-data: ${Buffer.from(kube.caCert).toString('base64')}`,
    'users:', `- name: ${serviceAccount}`, '  user:', `    token: ${token}`,
    'contexts:', '- name: test', `  context: {cluster: test, user: ${serviceAccount}, namespace: ${namespace}}`, 'current-context: test', '',
  ].join('\n'), { mode: 0o600 });
  return file;
}

/** The lines of a controller's log where the API server refused it (a missing RBAC permission). */
export function deniedLines(log: string): string[] {
  return log.split('\n').filter((l) => /forbidden|KUBE_DENIED/i.test(l));
}
