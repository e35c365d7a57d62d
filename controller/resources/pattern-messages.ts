// Human messages for the schema's string formats: a value that does not fit is told what is
// expected, never shown the regular expression (Ajv's own "must match pattern ..."). Every
// pattern in schemas.ts has an entry here (pattern-messages.test.ts walks the schemas).
import { NAME_PATTERN } from './schemas.ts';
import { scheduleProblem } from './schedule-message.ts';
import { BACKUP_TASK_PATTERN, DATABASE_URL_PATTERN, DNS_LABEL_PATTERN, RESTORE_TASK_PATTERN, S3_ENDPOINT_PATTERN } from './stash-spelling.ts';

const MESSAGES: Record<string, (value: unknown) => string> = {
  '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$': () => 'must be a duration such as 30s, 5m, 1h30m or 500ms',
  '^[-._a-zA-Z0-9]{1,253}$': () => 'must be a key of 1 to 253 letters, digits, ".", "_" or "-"',
  [NAME_PATTERN]: () => 'must be a name of lower-case letters, digits, "-" and ".", starting and ending with a letter or digit (at most 253 characters; a namespace at most 63)',
  '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$': () => 'must be base64-encoded (Secret data is base64, as in Kubernetes: e.g. `printf %s "value" | base64`)',
  '^https?://': () => 'must be an http:// or https:// URL',
  [S3_ENDPOINT_PATTERN]: () => 'must be an http:// or https:// URL, or a host[:port] without a scheme (https, as in Stash: s3.amazonaws.com)',
  [DATABASE_URL_PATTERN]: () => 'must be tcp(host:port)/ or mysql://host:port (also mariadb:// or tcp://), without user, password, database or parameters',
  [DNS_LABEL_PATTERN]: () => 'must be a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit (no dots)',
  [BACKUP_TASK_PATTERN]: (v) => `must be one of Stash's MariaDB or MySQL backup tasks, such as mariadb-backup-10.5.8 or mysql-backup-8.0.21 (it is ignored: sidestash runs mariadb-dump itself)${taskHint(v)}`,
  [RESTORE_TASK_PATTERN]: (v) => `must be one of Stash's MariaDB or MySQL restore tasks, such as mariadb-restore-10.5.8 or mysql-restore-8.0.21 (it is ignored: sidestash restores with mariadb itself)${taskHint(v)}`,
  '^\\s*\\S+(\\s+\\S+){4,6}\\s*$|^@(yearly|annually|monthly|weekly|daily|hourly)$': (v) => scheduleProblem(String(v)),
  '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$': () => 'must be an IANA time zone such as UTC, Europe/Berlin or America/New_York',
  '^(latest|[0-9a-f]{4,64})$': () => 'must be "latest" or a snapshot ID (4 to 64 lower-case hexadecimal digits, as `sidestash snapshots` shows)',
  '^[A-Za-z0-9]([-A-Za-z0-9._]{0,251}[A-Za-z0-9])?$': () => 'must be a host name: letters, digits, "-", "." and "_", starting and ending with a letter or digit',
  '^[A-Za-z0-9_$]{1,64}$': () => 'must be a database name of 1 to 64 letters, digits, "_" or "$"',
  '^[A-Za-z0-9_$]{1,64}\\.[A-Za-z0-9_$]{1,64}$': () => 'must be DATABASE.TABLE, each 1 to 64 letters, digits, "_" or "$"',
  '^(latest|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2}))$': () => 'must be an RFC 3339 time such as 2026-12-01T10:15:00Z (or with an offset, +02:00), or latest',
  '^[0-9]{1,10}-[0-9]{1,10}-[0-9]{1,20}$': () => 'must be a GTID domain-server-sequence such as 0-1-42',
  '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,126}\\.[0-9]{1,9}$': () => 'must be a binary log file name such as mysql-bin.000042',
  '^[0-9A-Za-z._-]*$': () => 'must be a resourceVersion as the API answered it (letters, digits, ".", "_" or "-"); leave it out to write over whatever is stored',
};

/** Another database's task: sidestash backs up MariaDB (and MySQL) only. */
function taskHint(value: unknown): string {
  const db = typeof value === 'string' ? /^([a-z]+)-(backup|restore)-/.exec(value)?.[1] : undefined;
  return db && db !== 'mariadb' && db !== 'mysql' ? `; ${JSON.stringify(value)} is a ${db} task: sidestash backs up MariaDB and MySQL only` : '';
}

export function knownPatterns(): string[] {
  return Object.keys(MESSAGES);
}

/** The message for a value that does not fit `pattern`; a generic one for a pattern not listed. */
export function patternMessage(pattern: string, value: unknown): string {
  return MESSAGES[pattern]?.(value) ?? 'has a format that is not accepted';
}
