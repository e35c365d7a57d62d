// Turns byte counters into rate and ETA: rate over a sliding window of samples, ETA from the
// estimated total when one is known.
import type { SessionProgress } from '../common/protocol.ts';

const WINDOW_MS = 10_000;

export class ProgressTracker {
  readonly #samples: { atMs: number; bytes: number }[] = [];
  readonly #startMs: number;
  estimatedTotalBytes: number | undefined;

  constructor(nowMs = Date.now()) {
    this.#startMs = nowMs;
    this.#samples.push({ atMs: nowMs, bytes: 0 });
  }

  snapshot(bytesDumped: number, bytesStored: number, nowMs = Date.now()): SessionProgress {
    this.#samples.push({ atMs: nowMs, bytes: bytesDumped });
    while (this.#samples.length > 2 && nowMs - this.#samples[0]!.atMs > WINDOW_MS) this.#samples.shift();
    const first = this.#samples[0]!;
    const spanMs = nowMs - first.atMs;
    const rate = spanMs > 0 ? ((bytesDumped - first.bytes) * 1000) / spanMs : 0;
    const p: SessionProgress = { bytesDumped, bytesStored, rateBytesPerSecond: Math.max(0, Math.round(rate)) };
    // The estimate (table statistics) can be stale; once passed, the ETA is unknown.
    if (this.estimatedTotalBytes !== undefined && this.estimatedTotalBytes > bytesDumped) {
      p.estimatedTotalBytes = this.estimatedTotalBytes;
      if (rate > 0) p.etaSeconds = Math.round((this.estimatedTotalBytes - bytesDumped) / rate);
    }
    return p;
  }

  get elapsedSeconds(): number {
    return (Date.now() - this.#startMs) / 1000;
  }
}
