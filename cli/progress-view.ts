// What `--wait`'s progress bar shows, as a pure function of a session's status: human sizes for
// both numbers, a total from the estimate (table statistics for a backup, the snapshot's dump
// size for a restore) that never falls below what is done, "?" (not "1") while none is known,
// and 100% once the session succeeded. And restic's closing line for a backup.
import { bytes } from './format.ts';
import { resticBytes } from './restic-text.ts';

export interface ProgressStatus {
  phase?: unknown;
  progress?: { bytesDumped?: unknown; estimatedTotalBytes?: unknown; rateBytesPerSecond?: unknown; etaSeconds?: unknown } | undefined;
  bytesRead?: unknown;
}

export interface ProgressView {
  /** The bar's value and total (cli-progress needs a positive total: 1 while nothing is known). */
  value: number;
  total: number;
  percent: string;
  done: string;
  totalText: string;
  rate: string;
  eta: string;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

/** `lastEstimate`: the largest estimate seen so far (the agent stops sending one once the dump passes it). */
export function progressView(st: ProgressStatus, lastEstimate: number | undefined): ProgressView {
  const p = st.progress ?? {};
  let done = num(p.bytesDumped) ?? 0;
  const estimate = Math.max(num(p.estimatedTotalBytes) ?? 0, lastEstimate ?? 0) || undefined;
  let total = estimate === undefined ? undefined : Math.max(estimate, done);
  if (st.phase === 'Succeeded') {
    // The whole dump was read: the bar ends full, at the real size.
    done = num(st.bytesRead) ?? Math.max(done, total ?? 0);
    total = done;
  }
  const eta = num(p.etaSeconds);
  return {
    value: total === undefined ? 0 : total === 0 ? 1 : done,
    total: total === undefined || total === 0 ? Math.max(1, done) : total,
    percent: total === undefined ? '--%' : total === 0 ? '100%' : `${Math.min(100, Math.floor((done * 100) / total))}%`,
    done: bytes(done),
    totalText: total === undefined ? '?' : bytes(total),
    rate: `${bytes(num(p.rateBytesPerSecond) ?? 0)}/s`,
    eta: st.phase === 'Succeeded' ? '0s' : eta === undefined ? '-' : `${eta}s`,
  };
}

/** restic's "Added to the repository: 292.969 KiB (293.226 KiB stored)", from a snapshot's summary. */
export function addedLine(summary: { data_added?: unknown; data_added_packed?: unknown } | undefined, bytesStored: unknown): string | undefined {
  const added = num(summary?.data_added);
  const packed = num(summary?.data_added_packed) ?? num(bytesStored);
  if (added === undefined) return packed === undefined ? undefined : `Added to the repository: ${resticBytes(packed)} stored`;
  return `Added to the repository: ${resticBytes(added)}${packed === undefined ? '' : ` (${resticBytes(packed)} stored)`}`;
}
