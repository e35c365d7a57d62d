// Timestamps as restic writes them: Go's RFC 3339 with nanoseconds (time.RFC3339Nano) and the
// local UTC offset, e.g. 2026-11-24T23:01:02.123456789+01:00: trailing zeros of the fraction
// trimmed (no dot when it is zero), "Z" for a zero offset. The exact form matters in tree
// blobs, whose id is the hash of their JSON (tree-json.ts). The offset matters: retention
// buckets (day, week, ...) are computed in the zone the snapshot was taken in, as restic does.

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Go's time.Format(time.RFC3339Nano) of an instant shown at a UTC offset. */
export function formatZoned(epochMs: number, nanosOfSecond: number, offsetMin: number): string {
  const local = new Date(epochMs + offsetMin * 60_000);
  const sign = offsetMin >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMin);
  const frac = pad(nanosOfSecond, 9).replace(/0+$/, '');
  return (
    `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}` +
    `${frac ? `.${frac}` : ''}${offsetMin === 0 ? 'Z' : `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`}`
  );
}

/** A date in this process's zone, as restic writes time.Now(). */
export function formatTime(date: Date, nanos?: number): string {
  return formatZoned(date.getTime(), nanos ?? date.getUTCMilliseconds() * 1_000_000, -date.getTimezoneOffset());
}

/** An RFC 3339 time re-written in Go's canonical form, keeping its offset; undefined when malformed. */
export function canonicalTime(s: string): string | undefined {
  const t = parseTime(s);
  if (!t) return undefined;
  const msOfSecond = ((t.epochMs % 1000) + 1000) % 1000;
  return formatZoned(t.epochMs, msOfSecond * 1_000_000 + t.subMsNanos, t.offsetMin);
}

export interface ZonedTime {
  /** Milliseconds since the epoch. */
  epochMs: number;
  /** Sub-millisecond part in nanoseconds (0..999999), for exact ordering. */
  subMsNanos: number;
  /** UTC offset of the recorded zone, in minutes. */
  offsetMin: number;
}

/** Parses an RFC 3339 time, keeping its UTC offset. Returns undefined when malformed. */
export function parseTime(s: string): ZonedTime | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) return undefined;
  const frac = (m[7] ?? '').padEnd(9, '0');
  const ms = Number(frac.slice(0, 3));
  const subMsNanos = Number(frac.slice(3));
  let offsetMin = 0;
  const z = m[8]!;
  if (z !== 'Z') {
    offsetMin = (Number(z.slice(1, 3)) * 60 + Number(z.slice(4, 6))) * (z[0] === '-' ? -1 : 1);
  }
  const localMs = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
  return { epochMs: localMs - offsetMin * 60_000, subMsNanos, offsetMin };
}

/** The wall-clock fields of a time in its own recorded zone. */
export function localFields(t: ZonedTime): { year: number; month: number; day: number; hour: number; date: Date } {
  const d = new Date(t.epochMs + t.offsetMin * 60_000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), date: d };
}

/** ISO 8601 week-numbering year and week of a date's UTC fields (Go's time.ISOWeek). */
export function isoWeek(d: Date): { year: number; week: number } {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const dow = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - dow);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return { year: t.getUTCFullYear(), week };
}
