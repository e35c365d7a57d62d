// How the agent trusts the controller: https:// with the controller's CA from
// SIDESTASH_CONTROLLER_CA_FILE or inline PEM in SIDESTASH_CONTROLLER_CA (the webhook injects
// it), else the system's trust store. An http:// controller URL is refused unless
// SIDESTASH_INSECURE_HTTP=true: over plain HTTP the agent's token and the database and
// repository credentials it receives cross the network readable by anyone on the path.
import { X509Certificate } from 'node:crypto';
import type { EnvReader } from '../common/config-env.ts';
import { splitPemCertificates } from '../common/tls-fetch.ts';

export interface ControllerTlsConfig {
  /** PEM of the CA(s) that sign the controller's certificate. */
  controllerCaCert?: string;
  /** Plain http:// to the controller allowed (SIDESTASH_INSECURE_HTTP=true). */
  insecureHttp?: boolean;
}

export function parseControllerTls(r: EnvReader, env: Record<string, string | undefined>, controllerUrl: string): ControllerTlsConfig {
  const insecureHttp = r.flag('SIDESTASH_INSECURE_HTTP');
  if (controllerUrl.startsWith('http://') && !insecureHttp) {
    r.problems.push('SIDESTASH_CONTROLLER_URL: http:// would send the agent token and the database and repository credentials unencrypted; use https:// (with SIDESTASH_CONTROLLER_CA_FILE for a private CA), or set SIDESTASH_INSECURE_HTTP=true');
  }
  const out: ControllerTlsConfig = { insecureHttp };
  const ca = r.string('SIDESTASH_CONTROLLER_CA');
  if (ca === undefined) return out;
  const setting = env.SIDESTASH_CONTROLLER_CA_FILE ? `SIDESTASH_CONTROLLER_CA_FILE (${env.SIDESTASH_CONTROLLER_CA_FILE})` : 'SIDESTASH_CONTROLLER_CA';
  const certs = splitPemCertificates(ca);
  if (certs.length === 0) r.problems.push(`${setting}: no PEM certificate in it`);
  for (const c of certs) {
    try {
      if (!new X509Certificate(c).ca) r.problems.push(`${setting}: ${new X509Certificate(c).subject} is not a CA certificate`);
    } catch (err) {
      r.problems.push(`${setting}: not a PEM certificate (${(err as Error).message})`);
    }
  }
  out.controllerCaCert = ca;
  return out;
}
