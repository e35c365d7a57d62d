// sidestash's live-progress gauges of a running session, in one Pushgateway group per invoker
// (job "sidestash-progress"), deleted when the session ends.
import type { SessionProgressStatus } from '../resources/types.ts';
import type { InvokerRef } from './session-facts.ts';
import { STASH_HOSTNAME } from './stash-metrics.ts';
import type { Sample } from './stash-metrics.ts';

export const PROGRESS_JOB = 'sidestash-progress';

export function progressGrouping(inv: Pick<InvokerRef, 'kind' | 'namespace' | 'invokerName'>): Record<string, string> {
  return { namespace: inv.namespace, invoker_kind: inv.kind === 'BackupSession' ? 'BackupConfiguration' : 'RestoreSession', invoker_name: inv.invokerName };
}

export function progressSamples(inv: InvokerRef, sessionName: string, p: SessionProgressStatus): Sample[] {
  const labels = { ...progressGrouping(inv), session: sessionName, name: inv.targetName, hostname: STASH_HOSTNAME, repository: inv.repositoryName };
  const out: Sample[] = [
    { name: 'sidestash_session_running', help: 'Whether a session of this invoker is running', labels, value: 1 },
    { name: 'sidestash_session_progress_bytes', help: 'Bytes dumped (backup) or restored so far in the running session', labels, value: p.bytesDumped },
    { name: 'sidestash_session_stored_bytes', help: 'Bytes stored in the repository so far in the running session', labels, value: p.bytesStored },
    { name: 'sidestash_session_rate_bytes_per_second', help: 'Current rate of the running session', labels, value: p.rateBytesPerSecond },
  ];
  if (p.etaSeconds !== undefined) out.push({ name: 'sidestash_session_eta_seconds', help: 'Estimated seconds left in the running session', labels, value: p.etaSeconds });
  return out;
}
