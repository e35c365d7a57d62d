// Snapshots retention must never remove, whatever the policy says: the snapshot the running
// session has just written (a clock running behind, or a newer-dated snapshot of another
// writer, could otherwise make a keep-last policy drop it).
import type { RetentionDecision, RetentionSnapshot } from './retention.ts';

export const PROTECTED_REASON = 'written by this session';

/** Moves the protected snapshots from `remove` to `keep`, with the reason. */
export function protectSnapshots<S extends RetentionSnapshot>(d: RetentionDecision<S>, protectedIds: readonly string[]): RetentionDecision<S> {
  if (protectedIds.length === 0) return d;
  const isProtected = (s: S): boolean => protectedIds.includes(s.id);
  const rescued = d.remove.filter(isProtected);
  const reasons = new Map(d.reasons);
  for (const s of rescued) reasons.set(s.id, [PROTECTED_REASON]);
  return { keep: [...d.keep, ...rescued], remove: d.remove.filter((s) => !isProtected(s)), reasons };
}
