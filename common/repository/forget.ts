// forget: remove the snapshots a retention policy does not keep (restic forget).
import type { CallOptions } from '../backend/backend.ts';
import { throwIfAborted } from '../errors.ts';
import { withLock } from './lock.ts';
import type { Repository } from './repository.ts';
import { applyPolicyGrouped } from './retention.ts';
import type { RetentionDecision, RetentionPolicy } from './retention.ts';
import { listSnapshots } from './snapshot.ts';
import type { Snapshot } from './snapshot.ts';

export interface ForgetOptions extends CallOptions {
  dryRun?: boolean;
  /** Only consider snapshots of this host (an agent forgets its own target's snapshots only). */
  hostname?: string;
}

export async function forget(repo: Repository, policy: RetentionPolicy, options: ForgetOptions = {}): Promise<RetentionDecision<Snapshot>> {
  const signalOpt = options.signal ? { signal: options.signal } : {};
  const run = async (signal?: AbortSignal): Promise<RetentionDecision<Snapshot>> => {
    const signalOpt = signal ? { signal } : {};
    const all = await listSnapshots(repo, signalOpt);
    const decision = applyPolicyGrouped(options.hostname === undefined ? all : all.filter((s) => s.hostname === options.hostname), policy);
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
