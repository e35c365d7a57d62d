// What a remote server (S3, REST) answered, as it may appear in an error message: error bodies
// are read only up to a bound, and an excerpt is short and printable: no control characters,
// terminal escape sequences, line breaks or bidirectional/format characters (which could
// rewrite what an operator's terminal or log viewer shows), whitespace collapsed.

import { stripTerminalControls } from '../terminal-text.ts';

/** Characters of a remote answer an error message may carry. */
export const REMOTE_EXCERPT_CHARS = 200;
/** Bytes of an error answer read at most (the rest is discarded). */
export const ERROR_BODY_BYTES = 64 * 1024;

/** A short, single-line, printable excerpt of remote text. */
export function remoteExcerpt(text: string | Uint8Array, maxChars = REMOTE_EXCERPT_CHARS): string {
  const s = typeof text === 'string' ? text.slice(0, maxChars * 8) : Buffer.from(text.subarray(0, maxChars * 8)).toString('utf8');
  // Escape sequences by the one rule (terminal-text.ts), then every other control, format,
  // line-separator or private character becomes a space.
  const clean = stripTerminalControls(s)
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cs}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = Array.from(clean);
  return chars.length > maxChars ? `${chars.slice(0, maxChars).join('')}…` : clean;
}

/** Reads at most maxBytes of a response body and discards the rest. */
export async function readBounded(body: AsyncIterable<unknown> & { destroy?: (err?: Error) => void }, maxBytes = ERROR_BODY_BYTES): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    parts.push(b.subarray(0, maxBytes - total));
    total += Math.min(b.length, maxBytes - total);
    if (total >= maxBytes) {
      body.destroy?.();
      break;
    }
  }
  return Buffer.concat(parts);
}
