// How the CLI reports the error that ended it, on stderr. For people (a terminal, or
// --log-format text): "error: MESSAGE (CODE)" with real line breaks, then each problem of a
// validation error on its own line with its field path and, where known, its file and document.
// For programs (not a terminal, or --log-format json): one JSON line with the same facts.
// Text from the server has its terminal controls removed.
import { errorMessage, isSidestashError } from '../common/errors.ts';
import { createLogger } from '../common/log.ts';
import { stripTerminalControls } from '../common/terminal-text.ts';
import type { LogFormat } from './log-format.ts';

export interface Problem {
  field?: unknown;
  message?: unknown;
  file?: unknown;
  document?: unknown;
  kind?: unknown;
  name?: unknown;
}

function problemsOf(err: unknown): Problem[] {
  if (!isSidestashError(err)) return [];
  const list = err.details.errors;
  return Array.isArray(list) ? list.filter((p): p is Problem => p !== null && typeof p === 'object') : [];
}

/** "a.yaml, document 2 (BackupConfiguration nightly)", or '' when the problem names no document. */
export function problemPlace(p: Problem): string {
  const parts: string[] = [];
  if (typeof p.file === 'string') parts.push(p.file);
  if (typeof p.document === 'number') parts.push(`document ${p.document}${p.kind !== undefined || p.name !== undefined ? ` (${String(p.kind ?? '?')} ${String(p.name ?? '?')})` : ''}`);
  return parts.join(', ');
}

export function formatErrorText(err: unknown): string {
  const code = isSidestashError(err) ? ` (${err.code})` : '';
  const problems = problemsOf(err);
  // A validation error's message repeats its problems on one line; they are listed below instead.
  const headline = problems.length > 0 && isSidestashError(err) && typeof err.details.summary === 'string' ? err.details.summary : problems.length > 0 ? `${problems.length === 1 ? 'a problem was' : `${problems.length} problems were`} found` : errorMessage(err);
  // The code ends the first line; further lines of the message (a hint, a usage) follow it.
  const [first, ...more] = stripTerminalControls(headline).split('\n');
  const lines = [`error: ${first}${code}`, ...more];
  let lastPlace: string | undefined;
  for (const p of problems) {
    const place = problemPlace(p);
    if (place && place !== lastPlace) lines.push(`  ${place}:`);
    lastPlace = place;
    const field = typeof p.field === 'string' && p.field ? `${p.field}: ` : '';
    lines.push(`${place ? '    ' : '  '}${stripTerminalControls(`${field}${String(p.message ?? 'is invalid')}`)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function reportError(err: unknown, format: LogFormat, write: (s: string) => void = (s) => process.stderr.write(s)): void {
  if (format === 'text') {
    write(formatErrorText(err));
    return;
  }
  const problems = problemsOf(err);
  createLogger({ component: 'cli' }, { write }).error(errorMessage(err), isSidestashError(err) ? { code: err.code, retryable: err.retryable, ...(problems.length > 0 ? { errors: problems } : {}) } : {});
}
