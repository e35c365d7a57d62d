// JSON Schemas of each kind's spec: unknown fields are rejected everywhere.
import type { Kind } from './types.ts';
import { BACKUP_TASK_PATTERN, DATABASE_URL_PATTERN, DNS_LABEL_PATTERN, ONE_RULE, ONE_SNAPSHOT, RESTORE_TASK_PATTERN, S3_ENDPOINT_PATTERN } from './stash-spelling.ts';

type Schema = Record<string, unknown>;

const str = (extra: Schema = {}): Schema => ({ type: 'string', minLength: 1, ...extra });
const obj = (properties: Record<string, Schema>, required: string[] = [], extra: Schema = {}): Schema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
  ...extra,
});
const stringMap: Schema = { type: 'object', additionalProperties: { type: 'string' } };
const keep: Schema = { type: 'integer', minimum: -1 };
const ref = obj({ name: str() }, ['name']);
const targetRef = obj({ ref: obj({ apiVersion: str(), kind: { const: 'AppBinding' }, name: str() }, ['name']) }, ['ref']);
const duration: Schema = { type: 'string', pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$' };
const snapshotId = str({ pattern: '^(latest|[0-9a-f]{4,64})$' });
// A restic hostname as Stash writes them (host-0, an alias, alias-<ordinal>, a node name); only with latest (stash-spelling.ts).
const sourceHost = str({ pattern: '^[A-Za-z0-9]([-A-Za-z0-9._]{0,251}[A-Za-z0-9])?$', maxLength: 253 });
// Stash's spec.task: accepted for Stash's MariaDB/MySQL tasks only, and ignored (sidestash runs mariadb-dump itself).
const task = (pattern: string): Schema => obj({ name: str({ pattern }) });

/** Kubernetes Secret key names. */
const SECRET_KEY: Schema = { type: 'string', pattern: '^[-._a-zA-Z0-9]{1,253}$' };

export const NAME_PATTERN = '^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$';

export const metadataSchema: Schema = obj(
  {
    name: str({ pattern: NAME_PATTERN, maxLength: 253 }),
    namespace: str({ pattern: NAME_PATTERN, maxLength: 63 }),
    labels: stringMap,
    annotations: stringMap,
    uid: { type: 'string' },
    // Opaque, as in Kubernetes (a string; numbers from older versions' output are read as their digits).
    resourceVersion: { type: ['string', 'integer'], maxLength: 64, pattern: '^[0-9A-Za-z._-]*$' },
    creationTimestamp: { type: 'string' },
  },
  ['name'],
);

export const specSchemas: Record<Kind, Schema> = {
  Secret: obj({
    stringData: { type: 'object', propertyNames: SECRET_KEY, additionalProperties: { type: 'string' } },
    data: { type: 'object', propertyNames: SECRET_KEY, additionalProperties: { type: 'string', pattern: '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$' } },
  }),
  Repository: obj(
    {
      backend: obj(
        {
          local: obj({ path: str() }, ['path']),
          // Without a scheme (Stash's s3.amazonaws.com): https (stash-spelling.ts).
          s3: obj({ endpoint: str({ pattern: S3_ENDPOINT_PATTERN }), bucket: str(), prefix: { type: 'string' }, region: str(), bucketLookup: { enum: ['auto', 'path', 'dns'] } }, ['endpoint', 'bucket']),
          rest: obj({ url: str({ pattern: '^https?://' }) }, ['url']),
          storageSecretName: str(),
        },
        ['storageSecretName'],
        { oneOf: [{ required: ['local'] }, { required: ['s3'] }, { required: ['rest'] }] },
      ),
    },
    ['backend'],
  ),
  AppBinding: obj(
    {
      type: { type: 'string' },
      // sidestash's socket or host/port, or Stash's service or url (KubeDB writes both): stash-spelling.ts.
      clientConfig: obj(
        {
          socket: str(),
          host: str(),
          port: { type: 'integer', minimum: 1, maximum: 65535 },
          service: obj(
            {
              name: str({ pattern: DNS_LABEL_PATTERN, maxLength: 63 }),
              namespace: str({ pattern: DNS_LABEL_PATTERN, maxLength: 63 }),
              port: { type: 'integer', minimum: 1, maximum: 65535 },
              scheme: { enum: ['mysql', 'mariadb', 'tcp'] },
              path: { enum: ['/', ''] },
            },
            ['name'],
          ),
          url: str({ pattern: DATABASE_URL_PATTERN, maxLength: 300 }),
        },
        [],
        { anyOf: [{ required: ['socket'] }, { required: ['host'] }, { required: ['service'] }, { required: ['url'] }] },
      ),
      secret: ref,
      tls: obj({ caSecretName: str() }, ['caSecretName']),
      // Informational, as in Stash (the server's version, e.g. 10.5.8).
      version: { type: 'string', maxLength: 64 },
    },
    ['clientConfig', 'secret'],
  ),
  BackupConfiguration: obj(
    {
      // Five to seven cron fields (croner: optional seconds and year); the expression itself is checked on apply.
      schedule: str({ pattern: '^\\s*\\S+(\\s+\\S+){4,6}\\s*$|^@(yearly|annually|monthly|weekly|daily|hourly)$' }),
      timezone: str({ pattern: '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$' }),
      repository: ref,
      target: targetRef,
      // Each item is checked against mariadb-dump's option table and the allow-list on apply (common/dump-args.ts).
      dumpArgs: { type: 'array', maxItems: 256, items: { type: 'string', maxLength: 4096 } },
      // Which dumper writes the dump (agent/parallel-dump/ for parallel); its dumpArgs are checked on apply (common/parallel-dump-args.ts).
      dumper: { enum: ['mariadb-dump', 'parallel'] },
      // Reading connections of the parallel dumper.
      parallel: { type: 'integer', minimum: 1, maximum: 16 },
      retentionPolicy: obj({
        name: { type: 'string' },
        keepLast: keep,
        keepHourly: keep,
        keepDaily: keep,
        keepWeekly: keep,
        keepMonthly: keep,
        keepYearly: keep,
        keepTags: { type: 'array', items: str() },
        prune: { type: 'boolean' },
        dryRun: { type: 'boolean' },
      }),
      paused: { type: 'boolean' },
      backupHistoryLimit: { type: 'integer', minimum: 0, maximum: 1000 },
      timeout: duration,
      // A dump under thresholdPercent of the previous one is stored but marked suspicious, and retention is skipped.
      shrinkGuard: obj({ enabled: { type: 'boolean' }, thresholdPercent: { type: 'integer', minimum: 1, maximum: 100 } }),
      // readDataSubset's meaning ("n/m" or "x%") is checked on apply (integrity-rules.ts).
      integrityCheck: obj({ enabled: { type: 'boolean' }, readDataSubset: { type: 'string', maxLength: 32 }, readDataInterval: duration }),
      // Point-in-time recovery: the agent archives the binary log into the repository (agent/binlog/).
      binlog: obj({ enabled: { type: 'boolean' }, flushIntervalSeconds: { type: 'integer', minimum: 1, maximum: 3600 }, replicaServerId: { type: 'integer', minimum: 1, maximum: 4294967295 } }, ['enabled']),
      // Upload bandwidth limit for this configuration's backups (the agent's own limit may be lower; the lower applies).
      limitUploadKiBps: { type: 'integer', minimum: 1, maximum: 10485760 },
      task: task(BACKUP_TASK_PATTERN),
      // Stash's spelling of timeout (stash-spelling.ts).
      timeOut: duration,
    },
    ['schedule', 'repository', 'target'],
  ),
  BackupSession: obj(
    {
      // apiGroup: Stash's spelling of the group; either names sidestash's BackupConfiguration.
      invoker: obj({ apiGroup: { enum: ['stash.appscode.com', 'sidestash.io'] }, apiVersion: str(), kind: { const: 'BackupConfiguration' }, name: str(), uid: str() }, ['kind', 'name']),
      trigger: { enum: ['schedule', 'manual', 'offline'] },
    },
    ['invoker'],
  ),
  RestoreSession: obj(
    {
      repository: ref,
      // rules: Stash's spelling of snapshot and sourceHost, one rule with at most one snapshot (stash-spelling.ts).
      target: obj(
        {
          ...(targetRef.properties as Record<string, Schema>),
          rules: { type: 'array', maxItems: 1, description: ONE_RULE, items: obj({ snapshots: { type: 'array', maxItems: 1, description: ONE_SNAPSHOT, items: snapshotId }, sourceHost }) },
        },
        ['ref'],
      ),
      snapshot: snapshotId,
      sourceHost,
      database: str({ pattern: '^[A-Za-z0-9_$]{1,64}$' }),
      // Granular restore (common/sql-dump/dump-selection.ts): tables as db.table, and the database to restore into.
      tables: { type: 'array', minItems: 1, maxItems: 1000, items: str({ pattern: '^[A-Za-z0-9_$]{1,64}\\.[A-Za-z0-9_$]{1,64}$' }) },
      targetDatabase: str({ pattern: '^[A-Za-z0-9_$]{1,64}$' }),
      // Parallel restore: connections the dump loads over (absent: the agent's cores, at least 2).
      parallel: { type: 'integer', minimum: 1, maximum: 64 },
      // false: the restore does not write the server's binary log (needs BINLOG ADMIN or SUPER).
      writeBinlog: { type: 'boolean' },
      // checksum: also record CHECKSUM TABLE of each restored table (row counts are always checked).
      verify: { enum: ['checksum'] },
      // Point-in-time recovery, one of the three; the time's meaning is checked on apply (pitr-rules.ts).
      pointInTime: str({ maxLength: 40, pattern: '^(latest|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2}))$' }),
      gtid: str({ pattern: '^[0-9]{1,10}-[0-9]{1,10}-[0-9]{1,20}$' }),
      position: obj({ file: str({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,126}\\.[0-9]{1,9}$' }), position: { type: 'integer', minimum: 4, maximum: 4503599627370496 } }, ['file', 'position']),
      timeout: duration,
      task: task(RESTORE_TASK_PATTERN),
      timeOut: duration,
    },
    ['repository', 'target'],
  ),
};

export const resourceSchema = (kind: Kind): Schema =>
  obj({ apiVersion: { const: 'sidestash.io/v1' }, kind: { const: kind }, metadata: metadataSchema, spec: specSchemas[kind], status: { type: 'object' } }, ['kind', 'metadata', 'spec']);
