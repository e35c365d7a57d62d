// Stash's spelling of the fields sidestash names differently, and what each means: the one
// place where the controller reads them (the session assignment, the HTTP API's validation, the
// CLI's tables). A spec may use sidestash's spelling or Stash's for each, never both at once:
// - AppBinding spec.clientConfig.service {name, port, scheme, path} (KubeDB writes it): the
//   host <name>.<namespace>.svc and the port, as Stash's AppBinding.Hostname()/Port() have it;
//   preferred over `url` when both are set, as in Stash. `url`: `tcp(host:port)/` (the MySQL
//   driver's DSN, as KubeDB writes it) or `mysql://host:port` (also mariadb://, tcp://), read
//   through an allow-list: no user, password, database, parameters or socket path.
// - RestoreSession spec.target.rules: [{snapshots: [latest|ID], sourceHost}]: one rule with at
//   most one snapshot (latest when none), as spec.snapshot and spec.sourceHost.
// - Repository spec.backend.s3.endpoint without a scheme (Stash: s3.amazonaws.com): https, as
//   restic reads `s3:host/bucket`.
// - spec.timeOut (BackupConfiguration, RestoreSession): spec.timeout.
// - spec.task (BackupConfiguration, RestoreSession) and BackupSession spec.invoker.apiGroup are
//   accepted by the schema (only MariaDB/MySQL tasks) and mean nothing here: sidestash runs
//   mariadb-dump itself. Their patterns are below, with the schemas' other Stash fields.
import type { FieldError } from './validate.ts';

const HOST = '[A-Za-z0-9]([-A-Za-z0-9.]{0,251}[A-Za-z0-9])?';
const PORT = '[0-9]{1,5}';

/** Stash's MariaDB and MySQL addon tasks (mariadb-backup-10.5.8, mysql-backup-8.0.21, ...-v2). */
export const BACKUP_TASK_PATTERN = '^(mariadb|mysql)-backup-[0-9]+(\\.[0-9]+){0,2}(-v[0-9]+)?$';
export const RESTORE_TASK_PATTERN = '^(mariadb|mysql)-restore-[0-9]+(\\.[0-9]+){0,2}(-v[0-9]+)?$';
/** An http(s) URL, or a host[:port] without a scheme (https). */
export const S3_ENDPOINT_PATTERN = `^https?://|^${HOST}(:${PORT})?/?$`;
/** `tcp(host[:port])/` or `mysql|mariadb|tcp://host[:port][/]`. */
export const DATABASE_URL_PATTERN = `^(tcp\\((${HOST})(:(${PORT}))?\\)/|(mysql|mariadb|tcp)://(${HOST})(:(${PORT}))?/?)$`;
/** A DNS label: a Service's name or a namespace (no dots: the name is one label of <name>.<namespace>.svc). */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';

export interface DatabaseAddress {
  socket?: string;
  host?: string;
  port?: number;
}

type Loose = Record<string, unknown>;
const isObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);
const has = (o: Loose, k: string): boolean => o[k] !== undefined;

function portProblem(port: number, field: string): FieldError | undefined {
  return port >= 1 && port <= 65535 ? undefined : { field, message: `port ${port} is not between 1 and 65535` };
}

/** host and port of a `url` in one of the accepted forms; undefined when it is not one. */
export function parseDatabaseUrl(url: string): { host: string; port?: number } | undefined {
  const m = new RegExp(DATABASE_URL_PATTERN).exec(url);
  if (!m) return undefined;
  const host = m[2] ?? m[7]!;
  const port = m[5] ?? m[10];
  return port === undefined ? { host } : { host, port: Number(port) };
}

/**
 * Where the database is, from sidestash's socket/host/port or Stash's service/url. Problems
 * name the field; a spec with problems yields no address.
 */
export function appBindingAddress(clientConfig: unknown, namespace: string): { address?: DatabaseAddress; problems: FieldError[] } {
  const cc = isObject(clientConfig) ? clientConfig : {};
  const ours = ['socket', 'host', 'port'].filter((k) => has(cc, k));
  const stash = ['service', 'url'].filter((k) => has(cc, k));
  if (ours.length > 0 && stash.length > 0) {
    return { problems: [{ field: 'spec.clientConfig', message: `set sidestash's ${ours.join('/')} or Stash's ${stash.join('/')}, not both` }] };
  }
  if (ours.length > 0) {
    const address: DatabaseAddress = {};
    if (typeof cc.socket === 'string') address.socket = cc.socket;
    if (typeof cc.host === 'string') address.host = cc.host;
    if (typeof cc.port === 'number') address.port = cc.port;
    return address.socket === undefined && address.host === undefined ? { problems: [{ field: 'spec.clientConfig', message: 'set socket or host' }] } : { address, problems: [] };
  }
  const problems: FieldError[] = [];
  let fromUrl: DatabaseAddress | undefined;
  if (typeof cc.url === 'string') {
    const parsed = parseDatabaseUrl(cc.url);
    const bad = parsed?.port === undefined ? undefined : portProblem(parsed.port, 'spec.clientConfig.url');
    if (!parsed) problems.push({ field: 'spec.clientConfig.url', message: 'must be tcp(host:port)/ or mysql://host:port (also mariadb:// or tcp://), without user, password, database or parameters' });
    else if (bad) problems.push(bad);
    else fromUrl = parsed;
  }
  if (isObject(cc.service)) {
    const s = cc.service;
    if (typeof s.namespace === 'string' && s.namespace !== namespace) {
      problems.push({ field: 'spec.clientConfig.service.namespace', message: `must be the AppBinding's own namespace ${JSON.stringify(namespace)} (or left out): an agent serves the databases of its namespace` });
    }
    if (typeof s.name !== 'string' || !new RegExp(DNS_LABEL_PATTERN).test(s.name)) problems.push({ field: 'spec.clientConfig.service.name', message: 'must be the name of a Service' });
    if (problems.length > 0) return { problems };
    // Stash prefers the service over the url (kmodules' AppBinding.Hostname()).
    return { address: { host: `${s.name as string}.${namespace}.svc`, ...(typeof s.port === 'number' ? { port: s.port } : {}) }, problems };
  }
  if (problems.length > 0) return { problems };
  if (fromUrl) return { address: fromUrl, problems };
  return { problems: [{ field: 'spec.clientConfig', message: "set socket or host, or Stash's service or url" }] };
}

export interface SnapshotSelection {
  snapshot: string;
  sourceHost?: string;
}

/**
 * The snapshot a RestoreSession restores, from sidestash's spec.snapshot/sourceHost or Stash's
 * spec.target.rules (one rule, at most one snapshot; none means latest, as in Stash).
 */
export function restoreSelection(spec: unknown): { selection?: SnapshotSelection; problems: FieldError[] } {
  const s = isObject(spec) ? spec : {};
  const rules = isObject(s.target) ? s.target.rules : undefined;
  if (rules !== undefined && (has(s, 'snapshot') || has(s, 'sourceHost'))) {
    const ours = ['snapshot', 'sourceHost'].filter((k) => has(s, k)).map((k) => `spec.${k}`);
    return { problems: [{ field: 'spec.target.rules', message: `set the snapshot with sidestash's ${ours.join(' and ')} or with Stash's spec.target.rules, not both` }] };
  }
  let snapshot: unknown = s.snapshot;
  let sourceHost: unknown = s.sourceHost;
  let at = 'spec';
  if (rules !== undefined) {
    if (!Array.isArray(rules)) return { problems: [{ field: 'spec.target.rules', message: 'must be a list' }] };
    if (rules.length > 1) return { problems: [{ field: 'spec.target.rules', message: `must hold ${ONE_RULE}` }] };
    const rule: Loose = isObject(rules[0]) ? rules[0] : {};
    if (Array.isArray(rule.snapshots) && rule.snapshots.length > 1) return { problems: [{ field: 'spec.target.rules[0].snapshots', message: `must hold ${ONE_SNAPSHOT}` }] };
    snapshot = Array.isArray(rule.snapshots) ? rule.snapshots[0] : undefined;
    sourceHost = rule.sourceHost;
    at = 'spec.target.rules[0]';
  }
  const selection: SnapshotSelection = { snapshot: typeof snapshot === 'string' ? snapshot : 'latest' };
  if (typeof sourceHost === 'string') {
    // sourceHost selects the newest snapshot of a host; an id is one snapshot already.
    if (selection.snapshot !== 'latest') {
      return { problems: [{ field: `${at}.sourceHost`, message: `sourceHost selects the newest snapshot of a host and so goes with snapshot "latest"; snapshot ${JSON.stringify(selection.snapshot)} names one snapshot already: remove one of the two` }] };
    }
    selection.sourceHost = sourceHost;
  }
  return { selection, problems: [] };
}

/** Why a RestoreSession takes one rule, and one snapshot: also the schema's descriptions, which its maxItems' message quotes. */
export const ONE_RULE = "at most one rule: sidestash restores one database from one snapshot (Stash's rules per targetHosts are for workloads with several hosts)";
export const ONE_SNAPSHOT = 'at most one snapshot (none: latest): a database is restored from one dump, as Stash passes one snapshot to restic dump';

/**
 * A session's time limit from sidestash's spec.timeout or Stash's spec.timeOut (BackupConfiguration,
 * RestoreSession; a Go duration such as 2h or 1h30m0s, which the schema's duration pattern takes),
 * with the field it came from.
 */
export function sessionTimeout(spec: unknown): { timeout?: unknown; field: string; problems: FieldError[] } {
  const s = isObject(spec) ? spec : {};
  if (has(s, 'timeout') && has(s, 'timeOut')) return { field: 'spec.timeOut', problems: [{ field: 'spec.timeOut', message: "set sidestash's spec.timeout or Stash's spec.timeOut, not both" }] };
  return has(s, 'timeOut') ? { timeout: s.timeOut, field: 'spec.timeOut', problems: [] } : { timeout: s.timeout, field: 'spec.timeout', problems: [] };
}

/** The S3 endpoint as a URL: Stash's endpoint without a scheme (s3.amazonaws.com) is https. */
export function s3EndpointUrl(endpoint: string): string {
  return /^https?:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`;
}
