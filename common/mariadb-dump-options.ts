// mariadb-dump's complete option table (client/mysqldump.c's my_long_options and
// sslopt-longopts.h, MariaDB 10.11; `pipe` is Windows-only and kept so that prefixes resolve at
// least as strictly as on any build), with the kind my_getopt gives each option, and the
// allow-list: the options a logical backup needs. Every option that is listed here but not
// allowed is refused, and prefixes are resolved against the whole table, so a prefix that is
// ambiguous, or that resolves to a refused option, is refused.

/** bool: GET_BOOL NO_ARG (takes --skip-/--enable-/--disable- and =0/1); flag: GET_NO_ARG; value: REQUIRED_ARG; optional: OPT_ARG. */
export type OptionKind = 'bool' | 'flag' | 'value' | 'optional';

/** How an allowed option's value is checked (see dump-args.ts). */
export type ValueRule = 'charset' | 'database' | 'table' | 'where' | 'packetBytes' | 'netBufferBytes' | 'seconds';

export interface DumpOption {
  /** The full name, with `-` for `_` (my_getopt treats them as equal). */
  name: string;
  short?: string;
  kind: OptionKind;
}

/** [name, kind, short?] in mysqldump.c's order. */
const TABLE: [string, OptionKind, string?][] = [
  ['all-databases', 'bool', 'A'], ['all-tablespaces', 'bool', 'Y'], ['no-tablespaces', 'bool', 'y'],
  ['add-drop-database', 'bool'], ['add-drop-table', 'bool'], ['add-drop-trigger', 'bool'], ['add-locks', 'bool'],
  ['allow-keywords', 'bool'], ['apply-slave-statements', 'bool'], ['as-of', 'value'], ['character-sets-dir', 'value'],
  ['comments', 'bool', 'i'], ['compatible', 'value'], ['compact', 'bool'], ['complete-insert', 'bool', 'c'],
  ['compress', 'bool', 'C'], ['copy-s3-tables', 'bool'], ['create-options', 'bool', 'a'], ['databases', 'bool', 'B'],
  ['debug', 'optional', '#'], ['debug-check', 'bool'], ['debug-info', 'bool'], ['default-character-set', 'value'],
  ['delayed-insert', 'bool'], ['delete-master-logs', 'bool'], ['disable-keys', 'bool', 'K'], ['dump-date', 'bool'],
  ['dump-history', 'bool', 'H'], ['dump-slave', 'optional'], ['events', 'bool', 'E'], ['extended-insert', 'bool', 'e'],
  ['fields-terminated-by', 'value'], ['fields-enclosed-by', 'value'], ['fields-optionally-enclosed-by', 'value'],
  ['fields-escaped-by', 'value'], ['flush-logs', 'bool', 'F'], ['flush-privileges', 'bool'], ['force', 'bool', 'f'],
  ['gtid', 'bool'], ['header', 'bool'], ['help', 'flag', '?'], ['hex-blob', 'bool'], ['host', 'value', 'h'],
  ['ignore-database', 'value'], ['ignore-table-data', 'value'], ['ignore-table', 'value'],
  ['include-master-host-port', 'bool'], ['insert-ignore', 'bool'], ['lines-terminated-by', 'value'],
  ['lock-all-tables', 'bool', 'x'], ['lock-tables', 'bool', 'l'], ['log-error', 'value'], ['log-queries', 'bool'],
  ['master-data', 'optional'], ['max-allowed-packet', 'value'], ['max-statement-time', 'value'],
  ['net-buffer-length', 'value'], ['no-autocommit', 'bool'], ['no-create-db', 'bool', 'n'],
  ['no-create-info', 'bool', 't'], ['no-data', 'bool', 'd'], ['no-data-med', 'bool'], ['no-set-names', 'flag', 'N'],
  ['opt', 'flag'], ['order-by-primary', 'bool'], ['order-by-size', 'bool'], ['password', 'optional', 'p'],
  ['pipe', 'flag', 'W'], ['port', 'value', 'P'], ['protocol', 'value'], ['quick', 'bool', 'q'],
  ['quote-names', 'bool', 'Q'], ['replace', 'bool'], ['result-file', 'value', 'r'], ['routines', 'bool', 'R'],
  ['set-charset', 'bool'], ['single-transaction', 'bool'], ['skip-opt', 'flag'], ['socket', 'value', 'S'],
  ['ssl', 'bool'], ['ssl-ca', 'value'], ['ssl-capath', 'value'], ['ssl-cert', 'value'], ['ssl-cipher', 'value'],
  ['ssl-key', 'value'], ['ssl-crl', 'value'], ['ssl-crlpath', 'value'], ['tls-version', 'value'],
  ['ssl-verify-server-cert', 'bool'], ['system', 'value'], ['tab', 'value', 'T'], ['tables', 'flag'],
  ['triggers', 'bool'], ['tz-utc', 'bool'], ['user', 'value', 'u'], ['verbose', 'bool', 'v'], ['version', 'flag', 'V'],
  ['where', 'value', 'w'], ['xml', 'flag', 'X'], ['plugin-dir', 'value'], ['default-auth', 'value'], ['galera-info', 'bool'],
];

export const MARIADB_DUMP_OPTIONS: readonly DumpOption[] = TABLE.map(([name, kind, short]) => (short ? { name, kind, short } : { name, kind }));

/**
 * The allow-list, with the rule for each value-taking option. Everything else is refused:
 * options that write or read files (result-file, tab, log-error, character-sets-dir, debug*),
 * load plugins (plugin-dir, default-auth), change the connection or credentials (host, port,
 * socket, protocol, user, password, ssl*, tls-version, compress, pipe), act on the server or
 * replication (flush-logs, flush-privileges, delete-master-logs, master-data, dump-slave,
 * apply-slave-statements, gtid, include-master-host-port, galera-info), put users, grants or
 * CHANGE MASTER into a dump that a restore would apply (system, master-data), change the
 * output format so that it no longer restores (xml, compatible, and tab's fields-..., lines-...
 * and header), read data through other engines (no-data-med, copy-s3-tables), hide failures
 * (force), or only print and exit (help, version).
 */
export const ALLOWED_DUMP_OPTIONS: ReadonlyMap<string, ValueRule | null> = new Map<string, ValueRule | null>([
  // what to dump
  ['all-databases', null], ['databases', null], ['tables', null], ['ignore-database', 'database'],
  ['ignore-table', 'table'], ['ignore-table-data', 'table'], ['where', 'where'], ['no-data', null],
  ['no-create-info', null], ['no-create-db', null], ['routines', null], ['events', null], ['triggers', null],
  ['dump-history', null], ['no-tablespaces', null],
  // consistency and locking
  ['single-transaction', null], ['lock-tables', null], ['lock-all-tables', null], ['quick', null],
  ['order-by-primary', null], ['order-by-size', null],
  // output (all of it still SQL that the restore client reads)
  ['add-drop-database', null], ['add-drop-table', null], ['add-drop-trigger', null], ['add-locks', null],
  ['allow-keywords', null], ['comments', null], ['compact', null], ['complete-insert', null],
  ['create-options', null], ['disable-keys', null], ['dump-date', null], ['extended-insert', null],
  ['hex-blob', null], ['insert-ignore', null], ['no-autocommit', null], ['quote-names', null], ['replace', null],
  ['set-charset', null], ['no-set-names', null], ['tz-utc', null], ['opt', null], ['skip-opt', null],
  ['default-character-set', 'charset'],
  // limits and diagnostics
  ['max-allowed-packet', 'packetBytes'], ['net-buffer-length', 'netBufferBytes'], ['max-statement-time', 'seconds'],
  ['verbose', null],
]);
