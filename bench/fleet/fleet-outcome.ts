// Whether the fleet's scheduled run lost or doubled a session: every BackupConfiguration's due
// slot must have produced exactly one BackupSession (its scheduled name, scheduled-name.ts),
// assigned to exactly one agent once, and finished Succeeded.
import { scheduledSessionName } from '../../common/scheduled-name.ts';
import type { SessionRecord } from './worker-messages.ts';

export interface ListedSession {
  name: string;
  invoker: string;
  phase: string | undefined;
  createdMs: number | undefined;
  startedMs: number | undefined;
}

export interface FleetOutcome {
  due: number;
  created: number;
  finished: number;
  succeeded: number;
  /** Due slots without a session that finished (none created, or not finished, or failed). */
  lost: string[];
  /** Slots with more than one session, or sessions assigned more than once. */
  doubled: string[];
}

export function fleetOutcome(configurations: readonly string[], slotMs: number, listed: readonly ListedSession[], assigned: readonly SessionRecord[]): FleetOutcome {
  const byInvoker = new Map<string, ListedSession[]>();
  for (const s of listed) {
    const list = byInvoker.get(s.invoker) ?? [];
    list.push(s);
    byInvoker.set(s.invoker, list);
  }
  const claims = new Map<string, number>();
  for (const r of assigned) claims.set(r.name, (claims.get(r.name) ?? 0) + 1);
  const out: FleetOutcome = { due: configurations.length, created: 0, finished: 0, succeeded: 0, lost: [], doubled: [] };
  for (const cfg of configurations) {
    const mine = byInvoker.get(cfg) ?? [];
    out.created += mine.length;
    if (mine.length > 1) out.doubled.push(`${cfg}: ${mine.length} sessions (${mine.map((s) => s.name).join(', ')})`);
    const slot = mine.find((s) => s.name === scheduledSessionName(cfg, slotMs));
    if (slot?.phase === 'Succeeded' || slot?.phase === 'Failed' || slot?.phase === 'Cancelled') out.finished++;
    if (slot?.phase === 'Succeeded') out.succeeded++;
    else out.lost.push(`${cfg}: ${slot ? `${slot.name} ${slot.phase ?? 'no phase'}` : 'no session for the slot'}`);
  }
  for (const [name, n] of claims) if (n > 1) out.doubled.push(`${name}: assigned ${n} times`);
  return out;
}
