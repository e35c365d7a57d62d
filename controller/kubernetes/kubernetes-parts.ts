// Kubernetes mode's parts, built once from the configuration: the API server's client
// (kube-client.ts, over undici) and the resource store on it (kubernetes-store.ts), scoped to
// SIDESTASH_WATCH_NAMESPACES. The controller builds the elector, the agent authenticator and the
// event recorder on the client itself (controller.ts).
import type { Logger } from '../../common/log.ts';
import type { ControllerConfig } from '../config.ts';
import type { KubernetesParts } from '../controller.ts';
import { KubeClient } from './kube-client.ts';
import { KubernetesStore } from './kubernetes-store.ts';

export function kubernetesParts(config: ControllerConfig, log: Logger): KubernetesParts | undefined {
  if (config.store !== 'kubernetes' || !config.kubernetes) return undefined;
  const client = new KubeClient(config.kubernetes.connection);
  const namespaces = config.kubernetes.watchNamespaces;
  const store = new KubernetesStore({ client, ...(namespaces.length > 0 ? { namespaces } : {}), log: log.child({ component: 'store' }) });
  return { client, store };
}
