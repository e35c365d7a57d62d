// A Pushgateway's push API (https://github.com/prometheus/pushgateway#api): POST adds to a
// group (metrics of the same name are replaced, others kept), PUT replaces the group, DELETE
// removes it. Grouping values go base64url-encoded (`label@base64/…`) unless plainly safe, so
// that a `/` or an empty value cannot change the path. Transient failures (network, 5xx,
// 429 with Retry-After) are retried by the one retry layer; every call takes an AbortSignal.
import { DEFAULT_RETRY, networkError, parseRetryAfterMs, withRetry } from '../../common/backend/retry.ts';
import type { RetryPolicy } from '../../common/backend/retry.ts';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';

export type Grouping = Record<string, string>;

const PLAIN = /^[A-Za-z0-9_.:-]+$/;

function segment(label: string, value: string): string {
  // "." and ".." would be resolved away by URL normalisation.
  if (PLAIN.test(value) && !/^\.+$/.test(value)) return `${label}/${value}`;
  // Pushgateway's base64url, with "=" for the empty value.
  return `${label}@base64/${value === '' ? '=' : Buffer.from(value, 'utf8').toString('base64url')}`;
}

/** The group's path: /metrics/job/<job>[/<label>/<value>]…, labels in a stable order. */
export function groupPath(job: string, grouping: Grouping = {}): string {
  return ['/metrics', segment('job', job), ...Object.keys(grouping).sort().map((k) => segment(k, grouping[k]!))].join('/');
}

export class PushgatewayClient {
  readonly url: string;
  readonly #retry: RetryPolicy;
  readonly #timeoutMs: number;

  constructor(url: string, options: { retry?: RetryPolicy; timeoutMs?: number } = {}) {
    this.url = url.replace(/\/+$/, '');
    this.#retry = options.retry ?? DEFAULT_RETRY;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** POST: adds the metrics to the group, replacing those of the same names. */
  pushAdd(job: string, grouping: Grouping, body: string, signal?: AbortSignal): Promise<void> {
    return this.#call('POST', job, grouping, body, signal);
  }

  /** DELETE: removes the whole group (a group that does not exist is no error). */
  deleteGroup(job: string, grouping: Grouping, signal?: AbortSignal): Promise<void> {
    return this.#call('DELETE', job, grouping, undefined, signal);
  }

  #call(method: 'POST' | 'DELETE', job: string, grouping: Grouping, body: string | undefined, signal: AbortSignal | undefined): Promise<void> {
    const path = groupPath(job, grouping);
    const what = `${method} ${this.url}${path}`;
    return withRetry(what, this.#retry, signal, async () => {
      const timeout = AbortSignal.timeout(this.#timeoutMs);
      let res: Response;
      try {
        res = await fetch(`${this.url}${path}`, {
          method,
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
          ...(body === undefined ? {} : { body, headers: { 'content-type': 'text/plain; version=0.0.4' } }),
        });
      } catch (err) {
        if (signal?.aborted) throw err;
        throw networkError(what, err);
      }
      const text = (await res.text().catch(() => '')).slice(0, 300).trim();
      if (res.ok) return;
      const retryAfterMs = parseRetryAfterMs(res.headers.get('retry-after') ?? undefined, Date.now());
      throw new SidestashError(ErrorCodes.METRICS_PUSH_FAILED, `${what}: HTTP ${res.status}${text ? `: ${text}` : ''}`, {
        retryable: res.status >= 500 || res.status === 429,
        details: { status: res.status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
      });
    });
  }
}
