// The binlog archives this agent runs, as the controller leases them (controller/binlog/
// archive-lease.ts): at each sync (the heartbeat) the agent sends what each archiver reported and
// gets back the archives it is to run; apply() starts the new ones, restarts those whose
// settings changed, and stops the rest.
//
// Fencing: an archive's lease ends leaseMs after the agent sent the sync that brought it (by this
// host's clock: a duration, so the hosts' clocks need not agree), unless a later sync renews it.
// An archiver whose lease ran out is stopped, whatever else happens (the controller unreachable, this agent cut off
// from it), because the controller gives the archive to another agent a lease later: two agents
// must never write one archive.
//
// An archiver that fails is started again after a backoff that doubles up to MAX_RESTART_DELAY_MS;
// its error stays on its report (the configuration's status) until it runs again.
import { errorMessage, isSidestashError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { BinlogArchiveAssignment, BinlogArchiveProgress, BinlogArchiveReport } from '../../common/protocol.ts';

/** What an archiver says of itself (agent/binlog/run-archive.ts adapts the archiver's status to it). */
export interface ArchiveProgress extends Omit<BinlogArchiveProgress, 'lagSeconds'> {
  /** Since when (unix ms) events are read but not stored: the lag, counted when it is reported. */
  lagSinceMs?: number;
  /** A failure the archiver is retrying (the server down, the repository unreachable). */
  retrying?: { code: string; message: string };
}

export interface ArchiveHooks {
  signal: AbortSignal;
  log: Logger;
  /** The archiver's whole state each time (fields it leaves out are no longer true). */
  onProgress: (p: ArchiveProgress) => void;
  onGap: (gap: { detectedAt: string; message: string }) => void;
}

/** Runs one archive until its signal aborts (resolves) or it fails (rejects). */
export type ArchiveRunner = (a: BinlogArchiveAssignment, hooks: ArchiveHooks) => Promise<void>;

const FIRST_RESTART_DELAY_MS = 5_000;
const MAX_RESTART_DELAY_MS = 5 * 60_000;

interface Running {
  assignment: BinlogArchiveAssignment;
  /** When its lease ends, by this host's clock. */
  leaseEndsAtMs: number;
  fingerprint: string;
  controller: AbortController;
  done: Promise<void>;
  progress: ArchiveProgress;
  gapsSinceSync: number;
  lastGap?: { detectedAt: string; message: string };
  error?: { code: string; message: string };
  failures: number;
  restartTimer?: ReturnType<typeof setTimeout>;
}

/** The assignment's settings, without its lease: a renewed lease is the same archive. */
const fingerprintOf = (a: BinlogArchiveAssignment): string => JSON.stringify({ ...a, leaseMs: 0 });

export class BinlogArchiveSupervisor {
  readonly #run: ArchiveRunner;
  readonly #log: Logger;
  readonly #targets: readonly string[];
  readonly #now: () => number;
  readonly #firstRestartDelayMs: number;
  readonly #archives = new Map<string, Running>();
  /** Archivers stopped but not ended yet (a flush in progress), and archives waiting for them to end. */
  readonly #ending = new Map<string, Promise<void>>();
  readonly #waiting = new Map<string, { assignment: BinlogArchiveAssignment; leaseEndsAtMs: number }>();
  #fence: ReturnType<typeof setInterval> | undefined;

  constructor(run: ArchiveRunner, log: Logger, options: { targets: readonly string[]; now?: () => number; fenceCheckMs?: number; firstRestartDelayMs?: number }) {
    this.#run = run;
    this.#firstRestartDelayMs = options.firstRestartDelayMs ?? FIRST_RESTART_DELAY_MS;
    this.#log = log;
    this.#targets = options.targets;
    this.#now = options.now ?? Date.now;
    this.#fence = setInterval(() => this.checkLeases(), options.fenceCheckMs ?? 1000);
    this.#fence.unref?.();
  }

  /** The archives being run, by configuration. */
  get running(): string[] {
    return [...this.#archives.keys()];
  }

  /** What to send at the next sync. */
  reports(): BinlogArchiveReport[] {
    const now = this.#now();
    return [...this.#archives.values()].map((r) => {
      const { lagSinceMs, retrying, ...progress } = r.progress;
      const error = r.error ?? retrying;
      return {
        configuration: r.assignment.configuration,
        ...progress,
        lagSeconds: lagSinceMs === undefined ? 0 : Math.max(0, (now - lagSinceMs) / 1000),
        ...(r.gapsSinceSync > 0 ? { gaps: r.gapsSinceSync } : {}),
        ...(r.lastGap ? { lastGap: r.lastGap } : {}),
        ...(error ? { error } : {}),
      };
    });
  }

  /** After a sync that delivered `sent`: their gaps are counted by the controller now. */
  delivered(sent: readonly BinlogArchiveReport[]): void {
    for (const s of sent) {
      const r = this.#archives.get(s.configuration);
      if (r && s.gaps) r.gapsSinceSync = Math.max(0, r.gapsSinceSync - s.gaps);
    }
  }

  /** The controller's answer to a sync sent at sentAtMs (this host's clock): run exactly these. */
  apply(assignments: readonly BinlogArchiveAssignment[], sentAtMs: number): void {
    // Stopped (stopAll): an answer that arrives now starts nothing, as no lease check would stop it.
    if (this.#fence === undefined) return;
    const wanted = new Map<string, BinlogArchiveAssignment>();
    for (const a of assignments) {
      const problem = assignmentProblem(a, this.#targets);
      if (problem) {
        this.#log.warn('binlog archive refused', { configuration: typeof a?.configuration === 'string' ? a.configuration : undefined, reason: problem });
        continue;
      }
      wanted.set(a.configuration, a);
    }
    for (const [key, r] of this.#archives) {
      const a = wanted.get(key);
      if (!a || fingerprintOf(a) !== r.fingerprint) this.#stop(key, a ? 'its settings changed' : 'the controller no longer assigns it');
    }
    for (const key of [...this.#waiting.keys()]) if (!wanted.has(key)) this.#waiting.delete(key);
    for (const [key, a] of wanted) {
      const r = this.#archives.get(key);
      if (r) r.leaseEndsAtMs = sentAtMs + a.leaseMs;
      else this.#startWhenEnded(a, sentAtMs + a.leaseMs);
    }
  }

  /** Starts an archive once the archiver it replaces has ended: never two of one archive at once. */
  #startWhenEnded(a: BinlogArchiveAssignment, leaseEndsAtMs: number): void {
    const ending = this.#ending.get(a.configuration);
    if (!ending) {
      this.#start(a, leaseEndsAtMs);
      return;
    }
    const first = !this.#waiting.has(a.configuration);
    this.#waiting.set(a.configuration, { assignment: a, leaseEndsAtMs });
    if (!first) return;
    void ending.then(() => {
      const w = this.#waiting.get(a.configuration);
      this.#waiting.delete(a.configuration);
      if (w && this.#fence !== undefined && !this.#archives.has(a.configuration) && this.#now() < w.leaseEndsAtMs) this.#start(w.assignment, w.leaseEndsAtMs);
    });
  }

  /** Stops archives whose lease ran out (called every second, and by tests). */
  checkLeases(): void {
    const now = this.#now();
    for (const [key, r] of this.#archives) if (now >= r.leaseEndsAtMs) this.#stop(key, 'its lease ran out without a sync (the controller may give it to another agent)');
  }

  async stopAll(): Promise<void> {
    if (this.#fence) clearInterval(this.#fence);
    this.#fence = undefined;
    this.#waiting.clear();
    for (const key of [...this.#archives.keys()]) this.#stop(key, 'the agent stops');
    await Promise.all([...this.#ending.values()]);
  }

  #start(a: BinlogArchiveAssignment, leaseEndsAtMs: number, previous?: Running): void {
    const log = this.#log.child({ binlogArchive: a.configuration });
    const r: Running = previous ?? { assignment: a, leaseEndsAtMs, fingerprint: fingerprintOf(a), controller: new AbortController(), done: Promise.resolve(), progress: {}, gapsSinceSync: 0, failures: 0 };
    r.controller = new AbortController();
    delete r.restartTimer;
    this.#archives.set(a.configuration, r);
    const signal = r.controller.signal;
    log.info('archiving the binary log', { target: a.target, repository: a.repository.location, flushIntervalSeconds: a.flushIntervalSeconds });
    r.done = this.#run(r.assignment, {
      signal,
      log,
      onProgress: (p) => {
        r.progress = p;
        if (!p.retrying) {
          r.failures = 0;
          delete r.error;
        }
      },
      onGap: (gap) => {
        r.gapsSinceSync++;
        r.lastGap = gap;
        log.error('binary log gap: events were lost before they were archived; a new chain starts, and point-in-time recovery reaches across it only from the next full backup', { message: gap.message });
      },
    }).then(
      () => {
        if (!signal.aborted) this.#failed(r, new Error('the archiver ended by itself'), log);
      },
      (err: unknown) => {
        if (!signal.aborted) this.#failed(r, err, log);
      },
    );
  }

  #failed(r: Running, err: unknown, log: Logger): void {
    if (this.#archives.get(r.assignment.configuration) !== r) return;
    r.failures++;
    r.error = { code: isSidestashError(err) ? err.code : 'SIDESTASH_INTERNAL', message: errorMessage(err) };
    const delayMs = Math.min(MAX_RESTART_DELAY_MS, this.#firstRestartDelayMs * 2 ** (r.failures - 1));
    log.warn('binlog archiver failed; starting it again', { code: r.error.code, err: r.error.message, retryInMs: delayMs });
    r.restartTimer = setTimeout(() => {
      if (this.#archives.get(r.assignment.configuration) === r) this.#start(r.assignment, r.leaseEndsAtMs, r);
    }, delayMs);
    r.restartTimer.unref?.();
  }

  #stop(key: string, why: string): void {
    const r = this.#archives.get(key);
    if (!r) return;
    this.#archives.delete(key);
    if (r.restartTimer) clearTimeout(r.restartTimer);
    r.controller.abort(new Error(why));
    const ending = r.done.then(() => {
      if (this.#ending.get(key) === ending) this.#ending.delete(key);
    });
    this.#ending.set(key, ending);
    this.#log.info('stopped archiving the binary log', { binlogArchive: key, reason: why });
  }
}

/** The agent's own check of an assignment: well formed, and for a target this agent serves. */
export function assignmentProblem(a: BinlogArchiveAssignment, targets: readonly string[]): string | undefined {
  if (!a || typeof a !== 'object') return 'not an object';
  if (typeof a.configuration !== 'string' || !/^[^/\s]+\/[^/\s]+$/.test(a.configuration)) return 'configuration must be "namespace/name"';
  if (typeof a.target !== 'string' || !targets.includes(a.target)) return `target ${JSON.stringify(a.target)} is not one this agent serves`;
  if (!Number.isInteger(a.flushIntervalSeconds) || a.flushIntervalSeconds < 1 || a.flushIntervalSeconds > 3600) return 'flushIntervalSeconds must be 1 to 3600';
  if (!Number.isInteger(a.replicaServerId) || a.replicaServerId < 1 || a.replicaServerId > 4294967295) return 'replicaServerId must be 1 to 4294967295';
  if (!Number.isInteger(a.leaseMs) || a.leaseMs < 1000 || a.leaseMs > 24 * 3600_000) return 'leaseMs must be 1 s to 24 h';
  if (!a.database || !a.repository || typeof a.repository.location !== 'string') return 'database and repository are required';
  return undefined;
}
