// Why a fetch never got an answer, from the error's cause chain: fetch (undici) throws
// "TypeError: fetch failed" and puts the socket's error in `cause` (an AggregateError's
// `errors` when several addresses were tried). The kind is decided on the system and TLS error
// codes (an allow-list). Deno's fetch carries no codes: there the kind is read from the markers
// of its (hyper/rustls) message, the one place that looks at foreign message text, and the
// reason is that message from its cause on.

export type FetchFailureKind = 'dns' | 'refused' | 'tls' | 'timeout' | 'reset' | 'unreachable' | 'other';

export interface FetchFailure {
  kind: FetchFailureKind;
  /** For people, e.g. "TLS: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)". */
  reason: string;
  /** The innermost error code, e.g. ECONNREFUSED. */
  code?: string;
}

const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA', 'ENODATA']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);
const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);
const TIMEOUT = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
// OpenSSL's certificate verification codes and Node's TLS codes.
const TLS = /^(ERR_TLS_|ERR_SSL_|EPROTO$|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_|INVALID_CA$|PATH_LENGTH_EXCEEDED$|INVALID_PURPOSE$|CERT_UNTRUSTED$|CERT_REJECTED$|HOSTNAME_MISMATCH$)/;

interface Node {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
  hostname?: unknown;
}

/** The chain from the outer error inwards (cause, then the first of an AggregateError's errors), at most 8 deep. */
function chain(err: unknown): Node[] {
  const out: Node[] = [];
  let cur: unknown = err;
  while (cur && typeof cur === 'object' && out.length < 8) {
    const n = cur as Node;
    out.push(n);
    cur = n.cause ?? (Array.isArray(n.errors) ? n.errors[0] : undefined);
  }
  return out;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Describes a failed fetch; `timedOut`: the caller's own time limit fired (its signal's reason is then a TimeoutError). */
export function describeFetchFailure(err: unknown, options: { timeoutMs?: number } = {}): FetchFailure {
  const nodes = chain(err);
  const coded = [...nodes].reverse().find((n) => typeof n.code === 'string' && n.code !== '');
  const code = coded ? String(coded.code) : undefined;
  const message = text(coded?.message) || text(nodes[nodes.length - 1]?.message) || String(err);
  const timedOut = nodes.some((n) => n.name === 'TimeoutError');
  const within = options.timeoutMs === undefined ? '' : ` within ${options.timeoutMs >= 1000 ? `${options.timeoutMs / 1000} s` : `${options.timeoutMs} ms`}`;
  const base = (kind: FetchFailureKind, reason: string): FetchFailure => ({ kind, reason, ...(code ? { code } : {}) });
  if (timedOut || (code && TIMEOUT.has(code))) return base('timeout', `no answer${within}${code ? ` (${code})` : ''}`);
  if (!code) return codelessFailure(message);
  if (DNS.has(code)) {
    const host = text(coded?.hostname) || /\b(?:ENOTFOUND|EAI_AGAIN)\s+(\S+)/.exec(message)?.[1];
    return base('dns', `DNS lookup${host ? ` of ${host}` : ''} failed (${code})`);
  }
  if (code === 'ECONNREFUSED') return base('refused', `connection refused (${message.replace(/^connect ECONNREFUSED\s*/, '') || code})`);
  // Node's advice about --use-system-ca does not apply: the agent has its own CA setting.
  if (TLS.test(code)) return base('tls', `TLS: ${message.replace(/; if the root CA is installed locally.*$/s, '')} (${code})`);
  if (RESET.has(code)) return base('reset', `connection closed by the other side (${code})`);
  if (UNREACHABLE.has(code)) return base('unreachable', `host or network unreachable (${code})`);
  return base('other', `${message}${message.includes(code) ? '' : ` (${code})`}`);
}

// Deno: "error sending request for url (...): client error (Connect): tcp connect error: Connection refused (os error 111)".
const DENO_MARKERS: [RegExp, FetchFailureKind][] = [
  [/\bdns error\b/i, 'dns'],
  [/connection refused/i, 'refused'],
  [/invalid peer certificate|certificate|\btls\b|handshake/i, 'tls'],
  [/timed out/i, 'timeout'],
  [/connection reset|broken pipe|connection closed/i, 'reset'],
  [/unreachable/i, 'unreachable'],
];

function codelessFailure(message: string): FetchFailure {
  const reason = message.replace(/^error sending request for url \([^)]*\):\s*/, '').replace(/^client error \(Connect\):\s*/, '');
  const kind = DENO_MARKERS.find(([re]) => re.test(message))?.[1] ?? 'other';
  return { kind, reason: kind === 'tls' && !/^TLS/i.test(reason) ? `TLS: ${reason}` : reason };
}
