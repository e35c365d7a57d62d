// forget: remove the snapshots a retention policy does not keep (restic forget).
import type { CallOptions } from '../backend/backend.ts';
import { throwIfAborted } from '../errors.ts';
import { withLock } from './lock.ts';
import type { Repository } from './repository.ts';
import { applyPolicyGrouped } from './retention.ts';
import { protectSnapshots } from './retention-guard.ts';
import type { RetentionDecision, RetentionPolicy } from './retention.ts';
import { listSnapshots } from './snapshot.ts';
import type { Snapshot } from './snapshot.ts';

export interface ForgetOptions extends CallOptions {
  dryRun?: boolean;
  /** Only consider snapshots of this host (an agent forgets its own target's snapshots only). */
  hostname?: string;
  /** Only consider the snapshots this accepts (an agent: its own target's, see snapshot-selector.ts). */
  select?: (s: Snapshot) => boolean;
  /** Ids never removed, whatever the policy says (the snapshot the session just wrote). */
  protect?: readonly string[];
}

export async function forget(repo: Repository, policy: RetentionPolicy, options: ForgetOptions = {}): Promise<RetentionDecision<Snapshot>> {
  const signalOpt = options.signal ? { signal: options.signal } : {};
  const run = async (signal?: AbortSignal): Promise<RetentionDecision<Snapshot>> => {
    const signalOpt = signal ? { signal } : {};
    const all = await listSnapshots(repo, signalOpt);
    const considered = all.filter((s) => (options.hostname === undefined || s.hostname === options.hostname) && (options.select?.(s) ?? true));
    const decision = protectSnapshots(applyPolicyGrouped(considered, policy), options.protect ?? []);
    if (!options.dryRun) {
      for (const s of decision.remove) {
        throwIfAborted(signal);
        await repo.backend.remove({ type: 'snapshots', name: s.id }, signalOpt);
      }
    }
    return decision;
  };
  return options.dryRun ? run(options.signal) : withLock(repo, true, signalOpt, run);
}
