// Controller configuration, parsed once at start-up from the environment.
import { EnvReader, parseListen } from '../common/config-env.ts';

export interface ControllerConfig {
  listen: { host: string; port: number };
  /** sqlite file of the embedded store. */
  databasePath: string;
  adminToken: string;
  agentBootstrapToken: string;
  /** How long a Running session survives without word from its agent. */
  leaseMs: number;
  sweepIntervalMs: number;
}

export function parseControllerConfig(env: Record<string, string | undefined> = process.env): ControllerConfig {
  const r = new EnvReader(env);
  const listen = parseListen(r.string('SIDESTASH_LISTEN', '127.0.0.1:7480')!, r.problems, 'SIDESTASH_LISTEN');
  const adminToken = r.required('SIDESTASH_ADMIN_TOKEN', 'bearer token for the API');
  const agentBootstrapToken = r.required('SIDESTASH_AGENT_BOOTSTRAP_TOKEN', 'token agents register with');
  r.check(16, 'SIDESTASH_ADMIN_TOKEN', adminToken);
  r.check(16, 'SIDESTASH_AGENT_BOOTSTRAP_TOKEN', agentBootstrapToken);
  const config: ControllerConfig = {
    listen,
    databasePath: r.string('SIDESTASH_DB', '.sidestash/controller.db')!,
    adminToken,
    agentBootstrapToken,
    leaseMs: r.durationMs('SIDESTASH_SESSION_LEASE', '60s'),
    sweepIntervalMs: r.durationMs('SIDESTASH_SWEEP_INTERVAL', '5s'),
  };
  r.done('controller');
  return config;
}
