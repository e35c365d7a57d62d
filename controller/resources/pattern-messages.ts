// Human messages for the schema's string formats: a value that does not fit is told what is
// expected, never shown the regular expression (Ajv's own "must match pattern ..."). Every
// pattern in schemas.ts has an entry here (pattern-messages.test.ts walks the schemas).
import { NAME_PATTERN } from './schemas.ts';
import { scheduleProblem } from './schedule-message.ts';

const MESSAGES: Record<string, (value: unknown) => string> = {
  '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$': () => 'must be a duration such as 30s, 5m, 1h30m or 500ms',
  '^[-._a-zA-Z0-9]{1,253}$': () => 'must be a key of 1 to 253 letters, digits, ".", "_" or "-"',
  [NAME_PATTERN]: () => 'must be a name of lower-case letters, digits, "-" and ".", starting and ending with a letter or digit (at most 253 characters; a namespace at most 63)',
  '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$': () => 'must be base64-encoded (Secret data is base64, as in Kubernetes: e.g. `printf %s "value" | base64`)',
  '^https?://': () => 'must be an http:// or https:// URL',
  '^\\s*\\S+(\\s+\\S+){4,6}\\s*$|^@(yearly|annually|monthly|weekly|daily|hourly)$': (v) => scheduleProblem(String(v)),
  '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$': () => 'must be an IANA time zone such as UTC, Europe/Berlin or America/New_York',
  '^(latest|[0-9a-f]{4,64})$': () => 'must be "latest" or a snapshot ID (4 to 64 lower-case hexadecimal digits, as `sidestash snapshots` shows)',
  '^[A-Za-z0-9]([-A-Za-z0-9._]{0,251}[A-Za-z0-9])?$': () => 'must be a host name: letters, digits, "-", "." and "_", starting and ending with a letter or digit',
  '^[A-Za-z0-9_$]{1,64}$': () => 'must be a database name of 1 to 64 letters, digits, "_" or "$"',
};

export function knownPatterns(): string[] {
  return Object.keys(MESSAGES);
}

/** The message for a value that does not fit `pattern`; a generic one for a pattern not listed. */
export function patternMessage(pattern: string, value: unknown): string {
  return MESSAGES[pattern]?.(value) ?? 'has a format that is not accepted';
}
