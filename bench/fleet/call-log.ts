// The fleet benchmark's record of calls: latencies in milliseconds by kind of call, and the
// failed calls by kind and status or error code. Plain data, so it crosses worker boundaries.
export interface CallLogData {
  latencyMs: Record<string, number[]>;
  errors: Record<string, Record<string, number>>;
}

export class CallLog {
  readonly #latencyMs = new Map<string, number[]>();
  readonly #errors = new Map<string, Map<string, number>>();

  add(kind: string, ms: number): void {
    let list = this.#latencyMs.get(kind);
    if (!list) this.#latencyMs.set(kind, (list = []));
    list.push(ms);
  }

  error(kind: string, what: string): void {
    let m = this.#errors.get(kind);
    if (!m) this.#errors.set(kind, (m = new Map()));
    m.set(what, (m.get(what) ?? 0) + 1);
  }

  export(): CallLogData {
    return {
      latencyMs: Object.fromEntries(this.#latencyMs),
      errors: Object.fromEntries([...this.#errors].map(([k, m]) => [k, Object.fromEntries(m)])),
    };
  }
}

/** Several logs (one per worker, the admin client's) as one. */
export function mergeCallLogs(logs: readonly CallLogData[]): CallLogData {
  const out: CallLogData = { latencyMs: {}, errors: {} };
  for (const l of logs) {
    for (const [k, v] of Object.entries(l.latencyMs)) (out.latencyMs[k] ??= []).push(...v);
    for (const [k, m] of Object.entries(l.errors)) {
      const o = (out.errors[k] ??= {});
      for (const [what, n] of Object.entries(m)) o[what] = (o[what] ?? 0) + n;
    }
  }
  return out;
}
