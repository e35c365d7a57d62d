// How an injected agent learns to trust the controller: the CA's PEM inline in its
// environment (it is public), or the insecure flag when the controller serves plain HTTP.
import type { InjectionConfig } from './injector.ts';

export function controllerTlsEnv(config: Pick<InjectionConfig, 'controllerCaCert' | 'insecureHttp'>): { name: string; value: string }[] {
  const env: { name: string; value: string }[] = [];
  if (config.controllerCaCert) env.push({ name: 'SIDESTASH_CONTROLLER_CA', value: config.controllerCaCert });
  if (config.insecureHttp) env.push({ name: 'SIDESTASH_INSECURE_HTTP', value: 'true' });
  return env;
}
