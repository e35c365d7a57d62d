// A leader-election candidate as its own process, for tests that kill -9 or freeze (SIGSTOP) a
// leader: it campaigns for the Lease named by its arguments and writes one JSON line per change
// ({event: "started" | "stopped", reason?, atMs}) to stdout. SIGTERM stops it gracefully
// (the Lease is released). Run as: node test/helpers/elector-process.ts KUBECONFIG NS LEASE ID LEASE_MS RENEW_MS RETRY_MS
import { KubeClient } from '../../controller/kubernetes/kube-client.ts';
import { loadKubeConnection } from '../../controller/kubernetes/kube-config.ts';
import { LeaderElector } from '../../controller/kubernetes/leader-elector.ts';

const [kubeconfig, namespace, name, identity, leaseMs, renewMs, retryMs] = process.argv.slice(2);
const say = (line: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ ...line, atMs: Date.now() })}\n`);
const client = new KubeClient(loadKubeConnection({ SIDESTASH_KUBECONFIG: kubeconfig! }), { requestTimeoutMs: Number(renewMs) });
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child() { return quiet; } };
const elector = new LeaderElector(client, {
  namespace: namespace!, name: name!, identity: identity!, leaseDurationMs: Number(leaseMs), renewDeadlineMs: Number(renewMs), retryPeriodMs: Number(retryMs), log: quiet,
  onStartedLeading: () => say({ event: 'started' }),
  onStoppedLeading: (reason) => say({ event: 'stopped', reason }),
});
const stop = new AbortController();
process.on('SIGTERM', () => stop.abort());
say({ event: 'running' });
await elector.run(stop.signal);
await client.close();
say({ event: 'exited' });
