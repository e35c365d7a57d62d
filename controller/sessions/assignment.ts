// Builds what an agent needs to run a session from the resources it references: database
// connection and credentials (AppBinding + Secret), repository location and secrets.
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import type { OfflineAssignment } from '../../common/offline-protocol.ts';
import type { BackupAssignment, DatabaseConnection, RepositoryAccess, RestoreAssignment } from '../../common/protocol.ts';
import { DEFAULT_SHRINK_GUARD_PERCENT } from '../../common/shrink-guard.ts';
import { assignmentRetentionPolicy, retentionPolicyProblem } from '../resources/retention-rules.ts';
import { sessionDeadlineMs } from '../resources/timeout-rules.ts';
import { secretValues } from '../resources/resource-service.ts';
import { API_VERSION, DEFAULT_DUMP_ARGS, DEFAULT_DUMP_PARALLEL } from '../resources/types.ts';
import { databaseTypeProblem, KUBEDB_APPBINDING_API_VERSION, targetSource } from '../kubernetes/kubedb-appbinding.ts';
import type { AppBindingSpec, BackupConfigurationSpec, BackupSessionSpec, RepositorySpec, RepositoryStatus, Resource, RestoreSessionSpec } from '../resources/types.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import { appBindingAddress, restoreSelection, s3EndpointUrl, sessionTimeout } from '../resources/stash-spelling.ts';
import type { DatabaseAddress } from '../resources/stash-spelling.ts';
import { integrityCheckPlan } from './integrity-plan.ts';
import { pointInTimeOf } from '../resources/pitr-rules.ts';
import { wholeServerDumpProblem } from '../../common/whole-server-dump.ts';

async function need<S>(store: ResourceStore, kind: 'Secret' | 'Repository' | 'AppBinding' | 'BackupConfiguration', ns: string, name: string, by: string): Promise<Resource<S>> {
  const r = await store.get<S, unknown>(kind, ns, name);
  if (!r) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `${by} refers to ${kind} ${ns}/${name}, which does not exist`);
  return r as Resource<S>;
}

async function secret(store: ResourceStore, ns: string, name: string, by: string): Promise<Record<string, string>> {
  return secretValues(await need(store, 'Secret', ns, name, by));
}

/**
 * The AppBinding a target.ref names: ours, or in Kubernetes mode KubeDB's when no sidestash.io
 * AppBinding has the name and the ref's apiVersion is appcatalog.appscode.com/v1alpha1 or none
 * (kubedb-appbinding.ts targetSource); KubeDB's type must be MariaDB or MySQL.
 */
export async function targetAppBinding(store: ResourceStore, ns: string, ref: { apiVersion?: string; name: string }, by: string): Promise<Resource<AppBindingSpec>> {
  if (!store.kubeDbAppBinding) return need<AppBindingSpec>(store, 'AppBinding', ns, ref.name, by);
  const ours = await store.get<AppBindingSpec, unknown>('AppBinding', ns, ref.name);
  const { source, problem } = targetSource(ref, ours !== undefined);
  if (problem) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `${by}: ${problem.field}: ${problem.message}`);
  if (source === 'sidestash') {
    if (!ours) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `${by} refers to AppBinding ${ns}/${ref.name}, which does not exist`);
    return ours as Resource<AppBindingSpec>;
  }
  const kubedb = await store.kubeDbAppBinding(ns, ref.name);
  if (!kubedb) {
    throw new SidestashError(ErrorCodes.INVALID_CONFIG, `${by} refers to AppBinding ${ns}/${ref.name}, which does not exist (neither ${API_VERSION} nor ${KUBEDB_APPBINDING_API_VERSION})`);
  }
  const bad = databaseTypeProblem(kubedb.spec.type);
  if (bad) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `AppBinding ${ns}/${ref.name} (${KUBEDB_APPBINDING_API_VERSION}): ${bad.field}: ${bad.message}`);
  if (!kubedb.spec.secret) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `AppBinding ${ns}/${ref.name} (${KUBEDB_APPBINDING_API_VERSION}): spec.secret.name: required (the Secret with username and password)`);
  return kubedb;
}

export async function databaseConnection(store: ResourceStore, ns: string, appBindingName: string, by: string, ref: { apiVersion?: string; name: string } = { name: appBindingName }): Promise<DatabaseConnection> {
  const ab = await targetAppBinding(store, ns, ref, by);
  const creds = await secret(store, ns, ab.spec.secret.name, `AppBinding ${ns}/${appBindingName}`);
  if (!creds.username || creds.password === undefined) {
    throw new SidestashError(ErrorCodes.INVALID_CONFIG, `Secret ${ns}/${ab.spec.secret.name} needs keys "username" and "password" for AppBinding ${appBindingName}`);
  }
  const conn: DatabaseConnection = { username: creds.username, password: creds.password, ...address(ab, ns, appBindingName) };
  if (ab.spec.tls) {
    const ca = (await secret(store, ns, ab.spec.tls.caSecretName, `AppBinding ${ns}/${appBindingName}`))['ca.crt'];
    if (!ca) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `Secret ${ns}/${ab.spec.tls.caSecretName} needs key "ca.crt"`);
    conn.caCert = ca;
  }
  return conn;
}

/** sidestash's or Stash's spelling of the address (stash-spelling.ts); a spec stored without the HTTP API's checks (Kubernetes) is refused here. */
function address(ab: Resource<AppBindingSpec>, ns: string, name: string): DatabaseAddress {
  const { address: a, problems } = appBindingAddress(ab.spec.clientConfig, ns);
  if (!a) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `AppBinding ${ns}/${name}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
  return a;
}

/** spec.timeout or Stash's spec.timeOut (stash-spelling.ts); both at once fail the session. */
function timeoutOf(spec: BackupConfigurationSpec | RestoreSessionSpec, owner: string): string | undefined {
  const { timeout, problems } = sessionTimeout(spec);
  if (problems.length > 0) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `${owner}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
  return timeout as string | undefined;
}

export function repositoryLocation(spec: RepositorySpec): string {
  const b = spec.backend;
  if (b.local) return `local:${b.local.path}`;
  if (b.s3) return `s3:${s3EndpointUrl(b.s3.endpoint).replace(/\/$/, '')}/${b.s3.bucket}${b.s3.prefix ? `/${b.s3.prefix.replace(/^\/+/, '')}` : ''}`;
  return `rest:${b.rest!.url}`;
}

export async function repositoryAccess(store: ResourceStore, ns: string, repoName: string, by: string): Promise<RepositoryAccess> {
  const repo = await need<RepositorySpec>(store, 'Repository', ns, repoName, by);
  const values = await secret(store, ns, repo.spec.backend.storageSecretName, `Repository ${ns}/${repoName}`);
  const { RESTIC_PASSWORD: password, ...credentials } = values;
  if (!password) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `Secret ${ns}/${repo.spec.backend.storageSecretName} needs key "RESTIC_PASSWORD"`);
  if (repo.spec.backend.s3?.region && !credentials.AWS_REGION) credentials.AWS_REGION = repo.spec.backend.s3.region;
  if (repo.spec.backend.s3?.bucketLookup) credentials.S3_BUCKET_LOOKUP = repo.spec.backend.s3.bucketLookup;
  return { location: repositoryLocation(repo.spec), password, credentials };
}

/** What every backup of configuration `cfg` is given, whoever runs it (a session, or the agent offline: offline-plan.ts). */
export async function configurationAssignment(store: ResourceStore, cfg: Resource<BackupConfigurationSpec>): Promise<OfflineAssignment> {
  const ns = cfg.metadata.namespace;
  const target = cfg.spec.target.ref.name;
  const a: OfflineAssignment = {
    kind: 'BackupSession',
    namespace: ns,
    invoker: cfg.metadata.name,
    target: `${ns}/${target}`,
    repositoryName: cfg.spec.repository.name,
    database: await databaseConnection(store, ns, target, `BackupConfiguration ${ns}/${cfg.metadata.name}`, cfg.spec.target.ref),
    repository: await repositoryAccess(store, ns, cfg.spec.repository.name, `BackupConfiguration ${ns}/${cfg.metadata.name}`),
    dumpArgs: cfg.spec.dumpArgs ?? DEFAULT_DUMP_ARGS,
    snapshotHost: target,
    filename: 'dumpfile.sql',
    shrinkGuardPercent: cfg.spec.shrinkGuard?.enabled === false ? 0 : (cfg.spec.shrinkGuard?.thresholdPercent ?? DEFAULT_SHRINK_GUARD_PERCENT),
    // Point-in-time recovery replays the archived binlog from where each dump was taken; only a
    // dump of the whole server can be its start (a spec stored without the API's checks: kubectl).
    ...(cfg.spec.binlog?.enabled === true && wholeServerDumpProblem(cfg.spec.dumpArgs ?? DEFAULT_DUMP_ARGS) === undefined ? { recordBinlogCoordinates: true } : {}),
    ...(cfg.spec.limitUploadKiBps !== undefined ? { limitUploadKiBps: cfg.spec.limitUploadKiBps } : {}),
    ...(cfg.spec.dumper === 'parallel' ? { dumper: 'parallel' as const, parallel: cfg.spec.parallel ?? DEFAULT_DUMP_PARALLEL } : {}),
  };
  // A policy that keeps nothing (stored before apply refused it) is not applied at all.
  if (cfg.spec.retentionPolicy && !retentionPolicyProblem(cfg.spec.retentionPolicy)) a.retentionPolicy = assignmentRetentionPolicy(cfg.spec.retentionPolicy);
  return a;
}

/** The configuration's session timeout (spec.timeout or Stash's timeOut), as written. */
export function configurationTimeout(cfg: Resource<BackupConfigurationSpec>): string | undefined {
  return timeoutOf(cfg.spec, `BackupConfiguration ${cfg.metadata.namespace}/${cfg.metadata.name}`);
}

export async function backupAssignment(store: ResourceStore, session: Resource<BackupSessionSpec, unknown>, startedMs: number): Promise<BackupAssignment> {
  const ns = session.metadata.namespace;
  const by = `BackupSession ${ns}/${session.metadata.name}`;
  const cfg = await need<BackupConfigurationSpec>(store, 'BackupConfiguration', ns, session.spec.invoker.name, by);
  const a: BackupAssignment = {
    ...(await configurationAssignment(store, cfg)),
    name: session.metadata.name,
    ...(session.metadata.uid ? { sessionUid: session.metadata.uid } : {}),
  };
  const deadlineMs = sessionDeadlineMs(configurationTimeout(cfg), startedMs, `BackupConfiguration ${ns}/${cfg.metadata.name}`);
  if (deadlineMs !== undefined) a.deadlineMs = deadlineMs;
  const integrityCheck = integrityCheckPlan(cfg.spec.integrityCheck, (await store.get<unknown, RepositoryStatus>('Repository', ns, a.repositoryName))?.status, startedMs);
  if (integrityCheck) a.integrityCheck = integrityCheck;
  return a;
}

export async function restoreAssignment(store: ResourceStore, session: Resource<RestoreSessionSpec, unknown>, startedMs: number): Promise<RestoreAssignment> {
  const ns = session.metadata.namespace;
  const by = `RestoreSession ${ns}/${session.metadata.name}`;
  const target = session.spec.target.ref.name;
  // spec.snapshot/sourceHost or Stash's spec.target.rules (stash-spelling.ts).
  const { selection, problems } = restoreSelection(session.spec);
  if (!selection) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `${by}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
  const a: RestoreAssignment = {
    kind: 'RestoreSession',
    namespace: ns,
    name: session.metadata.name,
    target: `${ns}/${target}`,
    repositoryName: session.spec.repository.name,
    database: await databaseConnection(store, ns, target, by, session.spec.target.ref),
    repository: await repositoryAccess(store, ns, session.spec.repository.name, by),
    snapshot: selection.snapshot,
    snapshotHost: target,
  };
  if (session.spec.database) a.databaseName = session.spec.database;
  if (session.spec.tables?.length) a.tables = [...session.spec.tables];
  if (session.spec.targetDatabase) a.targetDatabase = session.spec.targetDatabase;
  if (session.spec.parallel !== undefined) a.parallel = session.spec.parallel;
  if (session.spec.writeBinlog === false) a.writeBinlog = false;
  if (session.spec.verify === 'checksum') a.verify = 'checksum';
  const pointInTime = pointInTimeOf(session.spec);
  if (pointInTime) a.pointInTime = pointInTime;
  if (selection.sourceHost) a.sourceHost = selection.sourceHost;
  const deadlineMs = sessionDeadlineMs(timeoutOf(session.spec, by), startedMs, by);
  if (deadlineMs !== undefined) a.deadlineMs = deadlineMs;
  return a;
}
