// The agent's HTTP client for the controller: the runtime's fetch (Node's is undici, with
// keep-alive; loading the undici package as well would cost the resident sidecar ~13 MiB),
// trusting the controller's CA when one is configured (common/tls-fetch.ts).
// Calls that must arrive (progress, results) are retried with backoff on network errors and
// 5xx; a 401 means the registration is gone and is surfaced as UNAUTHORIZED so the agent
// registers again.
import { agentPaths } from '../common/agent-paths.ts';
import type { AgentId } from '../common/agent-paths.ts';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import { describeFetchFailure } from '../common/fetch-failure.ts';
import { trustingFetch } from '../common/tls-fetch.ts';
import type { FetchFn } from '../common/tls-fetch.ts';
import type { OfflinePlan, OfflineSessionRecorded, OfflineSessionReport } from '../common/offline-protocol.ts';
import type { AgentRegisterRequest, AgentRegistration, BinlogArchiveAssignment, BinlogArchiveReport, BinlogArchiveSyncRequest, BinlogArchiveSyncResponse, ProgressResponse, SessionAssignment, SessionProgress, SessionResult } from '../common/protocol.ts';

export interface RetryOptions {
  attempts: number;
  baseDelayMs: number;
  signal?: AbortSignal;
}

export class ControllerClient {
  readonly #baseUrl: string;
  readonly #caCert: string | undefined;
  #fetch: Promise<FetchFn> | undefined;
  token: string | undefined;
  agent: AgentId | undefined;
  /** When the controller last answered (any status below 500): how long it has been unreachable (edge autonomy). */
  lastContactMs: number | undefined;
  /** When a call last failed to reach it (network, timeout, 5xx); a long poll in progress is neither. */
  lastFailureMs: number | undefined;
  /** The controller's clock minus this agent's, from the Date header of its last answer (edge autonomy runs the controller's scheduled times). */
  clockOffsetMs: number | undefined;

  constructor(baseUrl: string, options: { caCert?: string | undefined } = {}) {
    this.#baseUrl = baseUrl;
    this.#caCert = options.caCert;
  }

  async #call<T>(method: 'GET' | 'POST', path: string, body: unknown, auth: string | undefined, signal?: AbortSignal, timeoutMs = 30_000): Promise<{ status: number; body: T | undefined }> {
    let status: number;
    let text: string;
    const url = `${this.#baseUrl}${path}`;
    try {
      const timeout = AbortSignal.timeout(timeoutMs);
      const fetchFn = await (this.#fetch ??= trustingFetch(this.#caCert));
      const res = await fetchFn(url, {
        method,
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      status = res.status;
      text = await res.text();
      if (status < 500) this.lastContactMs = Date.now();
      else this.lastFailureMs = Date.now();
      const date = Date.parse(res.headers.get('date') ?? '');
      // The header has whole seconds: its middle.
      if (status < 500 && Number.isFinite(date)) this.clockOffsetMs = date + 500 - Date.now();
    } catch (err) {
      if (signal?.aborted) throw new SidestashError(ErrorCodes.ABORTED, 'aborted', { cause: err });
      this.lastFailureMs = Date.now();
      // The URL and the cause (DNS, refused, TLS with its reason, timeout) from the cause chain.
      const failure = describeFetchFailure(err, { timeoutMs });
      throw new SidestashError(ErrorCodes.CONTROLLER_UNAVAILABLE, `cannot reach the controller at ${url}: ${failure.reason}`, {
        retryable: true,
        cause: err,
        details: { url, cause: failure.kind, ...(failure.code ? { causeCode: failure.code } : {}) },
      });
    }
    if (status === 204) return { status: 204, body: undefined };
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (status >= 200 && status < 300) return { status, body: parsed as T };
    const e = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    const code = status === 401 ? ErrorCodes.UNAUTHORIZED : status === 403 ? ErrorCodes.FORBIDDEN : ((e?.code as SidestashError['code'] | undefined) ?? ErrorCodes.CONTROLLER_UNAVAILABLE);
    throw new SidestashError(code, `the controller at ${url} answered ${status}: ${e?.message ?? text.slice(0, 200)}`, { retryable: status >= 500 || status === 429, details: { url, status } });
  }

  async #retry<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const retryable = err instanceof SidestashError && err.retryable;
        if (!retryable || attempt >= opts.attempts || opts.signal?.aborted) throw err;
        const delay = Math.min(30_000, opts.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Registers; a re-registration presents the current agent token, so the controller knows it is the same agent. */
  async register(req: Omit<AgentRegisterRequest, 'currentToken'>, enrolmentToken: string, signal?: AbortSignal): Promise<AgentRegistration> {
    const { body } = await this.#call<AgentRegistration>('POST', agentPaths.register(), { ...req, ...(this.token ? { currentToken: this.token } : {}) }, enrolmentToken, signal);
    this.token = body!.token;
    this.agent = { namespace: body!.namespace, name: body!.name };
    return body!;
  }

  #id(): AgentId {
    return this.agent ?? { namespace: '-', name: '-' };
  }

  async heartbeat(signal?: AbortSignal): Promise<void> {
    await this.#call('POST', agentPaths.heartbeat(this.#id()), {}, this.token, signal);
  }

  /** Gives the agent's name back (on a clean stop), so that the next start registers at once. */
  async deregister(timeoutMs = 3000): Promise<void> {
    if (!this.token) return;
    await this.#call('POST', agentPaths.deregister(this.#id()), {}, this.token, undefined, timeoutMs);
    this.token = undefined;
  }

  /** Long-polls for the next session; undefined when none came within waitMs. */
  async nextSession(waitMs: number, signal?: AbortSignal): Promise<SessionAssignment | undefined> {
    const { body } = await this.#call<SessionAssignment>('GET', agentPaths.next(this.#id(), waitMs), undefined, this.token, signal, waitMs + 30_000);
    return body;
  }

  async progress(a: SessionAssignment, p: SessionProgress, signal?: AbortSignal): Promise<ProgressResponse> {
    const { body } = await this.#retry(() => this.#call<ProgressResponse>('POST', agentPaths.progress(this.#id(), a), p, this.token, signal), { attempts: 3, baseDelayMs: 500, ...(signal ? { signal } : {}) });
    return body ?? { cancel: false };
  }

  /** Sends a session's result, `attempts` times at most (1 s, 2 s, 4 s, ... apart) while the controller cannot take it. */
  async result(a: SessionAssignment, r: SessionResult, signal?: AbortSignal, attempts = 4): Promise<void> {
    await this.#retry(() => this.#call('POST', agentPaths.result(this.#id(), a), r, this.token, signal), { attempts, baseDelayMs: 1000, ...(signal ? { signal } : {}) });
  }

  /** Reports the archives this agent runs; the answer lists those it is to run (agent/binlog/archive-supervisor.ts). */
  async syncBinlogArchives(reports: BinlogArchiveReport[], signal?: AbortSignal): Promise<BinlogArchiveAssignment[]> {
    const { body } = await this.#call<BinlogArchiveSyncResponse>('POST', agentPaths.binlogArchives(this.#id()), { reports } satisfies BinlogArchiveSyncRequest, this.token, signal);
    return Array.isArray(body?.archives) ? body.archives : [];
  }

  /** What this agent may run on its own while the controller cannot be reached (agent/offline/). */
  async offlinePlan(signal?: AbortSignal): Promise<OfflinePlan> {
    const { body } = await this.#call<OfflinePlan>('GET', agentPaths.offlinePlan(this.#id()), undefined, this.token, signal);
    return body ?? { configurations: [] };
  }

  /** Reports one backup the agent ran on its own; the controller records it as a BackupSession (trigger offline). */
  async reportOfflineSession(report: OfflineSessionReport, signal?: AbortSignal): Promise<OfflineSessionRecorded> {
    const { body } = await this.#call<OfflineSessionRecorded>('POST', agentPaths.offlineSessions(this.#id()), report, this.token, signal);
    return body ?? { session: '', phase: '' };
  }

  async close(): Promise<void> {}
}
