// Warnings in an API answer, as Kubernetes sends them: the body lists them, and each is a
// `Warning: 299 - "text"` header (RFC 7234 warn-code 299, "miscellaneous persistent warning"),
// so that any HTTP client can show them.
import type { ServerResponse } from 'node:http';

/** The header value of one warning: printable ASCII only, quotes and backslashes escaped. */
export function warningHeaderValue(text: string): string {
  const safe = text.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, (c) => `\\${c}`);
  return `299 - "${safe}"`;
}

/** Sets one Warning header line per warning (none: no header). */
export function setWarnings(res: ServerResponse, warnings: readonly string[]): void {
  if (warnings.length > 0) res.setHeader('warning', warnings.map(warningHeaderValue));
}
