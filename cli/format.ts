// Plain-text tables and sizes for the CLI. Cells come from the server: escape sequences and
// control characters in them are removed before they reach a terminal.
import { stripTerminalControls } from '../common/terminal-text.ts';
import { shortDuration } from './relative-time.ts';
import { humanBytes } from '../common/human-bytes.ts';

/** Server text made safe for a terminal (and single-line for a table cell). */
export function terminalText(s: string): string {
  return stripTerminalControls(s);
}

export function table(headers: string[], cells: string[][]): string {
  const rows = cells.map((r) => r.map((c) => terminalText(c).replace(/[\n\t]/g, ' ')));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function bytes(n: number | undefined): string {
  return n === undefined ? '-' : humanBytes(n);
}

/** kubectl's AGE: how long ago, without "ago" ("45s", "3h", "2d"); "-" when absent. */
export function age(iso: string | undefined, nowMs = Date.now()): string {
  if (!iso) return '-';
  return shortDuration((nowMs - Date.parse(iso)) / 1000);
}
