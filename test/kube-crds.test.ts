// The generated CRDs (charts/sidestash/crds/) on a real kube-apiserver: they are accepted and
// Established; the examples are stored without losing a field; invalid objects are refused by the
// server's schema with the field path, as the HTTP API refuses them (validateResource); status is
// a subresource; printer columns, short names and the "sidestash" category work in kubectl.
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { validateResource } from '../controller/resources/validate.ts';
import { SIDESTASH_CRD_KINDS, PRINTER_COLUMNS, SHORT_NAMES } from '../scripts/crds/crd-manifests.ts';
import { startKubeApiServer } from './helpers/kube-apiserver.ts';
import type { KubeApiServer } from './helpers/kube-apiserver.ts';

const ROOT = join(import.meta.dirname, '..');
const CRD_DIR = join(ROOT, 'charts', 'sidestash', 'crds');
const EXAMPLES = join(ROOT, 'examples');
const NS = 'shop';

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown>; stringData?: Record<string, string> };
const docsOf = async (file: string): Promise<Doc[]> => parseAllDocuments(await readFile(file, 'utf8')).map((d) => d.toJS() as Doc).filter(Boolean);
const plural = (kind: string): string => `${kind.toLowerCase()}${kind === 'Repository' ? '' : 's'}`.replace(/repository$/, 'repositories');

let kube: KubeApiServer;
before(async () => {
  kube = await startKubeApiServer();
  await kube.kubectlOk(['apply', '-f', CRD_DIR]);
  await kube.kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/component=crd']);
  await kube.kubectlOk(['create', 'namespace', NS]);
});
after(async () => kube?.stop());

/** kubectl's table as rows of cells, cut at the header's column starts (cells may be empty). */
function parseTable(text: string): string[][] {
  const lines = text.replace(/\n+$/, '').split('\n');
  const starts = [...lines[0]!.matchAll(/\S+/g)].map((m) => m.index);
  return lines.map((l) => starts.map((s, i) => l.slice(s, starts[i + 1]).trim()));
}

const getJson = async (resource: string, name: string): Promise<any> => JSON.parse(await kube.kubectlOk(['-n', NS, 'get', resource, name, '-o', 'json']));

describe('CRDs on a real API server', () => {
  it('installs one Established CRD per kind, with a status subresource and the sidestash category', async () => {
    const list = JSON.parse(await kube.kubectlOk(['get', 'crd', '-o', 'json'])) as { items: any[] };
    const ours = list.items.filter((c) => c.spec.group === 'sidestash.io');
    assert.deepEqual(ours.map((c) => c.spec.names.kind).sort(), [...SIDESTASH_CRD_KINDS].sort());
    for (const c of ours) {
      assert.ok(c.status.conditions.some((x: any) => x.type === 'Established' && x.status === 'True'), c.metadata.name);
      assert.ok(c.status.conditions.some((x: any) => x.type === 'NamesAccepted' && x.status === 'True'), `${c.metadata.name}: names accepted`);
      assert.deepEqual(c.spec.versions[0].subresources, { status: {} }, c.metadata.name);
      assert.deepEqual(c.spec.names.categories, ['sidestash']);
    }
    assert.ok(!ours.some((c) => c.spec.names.kind === 'Secret'), 'Secrets are core/v1 Secrets in Kubernetes mode');
  });

  it('stores the Kubernetes examples (core Secrets and sidestash.io resources) without pruning a field', async () => {
    await kube.kubectlOk(['apply', '-n', NS, '-f', join(EXAMPLES, 'kubernetes')]);
    for (const file of (await readdir(join(EXAMPLES, 'kubernetes'))).filter((f) => f.endsWith('.yaml'))) {
      for (const doc of await docsOf(join(EXAMPLES, 'kubernetes', file))) {
        const stored = await getJson(doc.kind === 'Secret' ? 'secret' : `${plural(doc.kind)}.sidestash.io`, doc.metadata.name);
        if (doc.kind === 'Secret') {
          assert.equal(doc.apiVersion, 'v1');
          for (const [k, v] of Object.entries(doc.stringData!)) assert.equal(Buffer.from(stored.data[k], 'base64').toString(), v, `${file}: ${k}`);
        } else {
          // A field missing from the CRD schema would be pruned: the stored spec would differ.
          assert.deepEqual(stored.spec, doc.spec, `${file}: ${doc.kind} ${doc.metadata.name} as stored`);
        }
      }
    }
    const secrets = await docsOf(join(EXAMPLES, 'kubernetes', 'secrets.yaml'));
    assert.deepEqual(secrets.map((s) => Object.keys(s.stringData!).sort()), [['RESTIC_PASSWORD'], ['password', 'username']], "Stash's key names");
  });

  it('keeps the Kubernetes examples equal to examples/*.yaml, which the HTTP API accepts', async () => {
    for (const file of (await readdir(join(EXAMPLES, 'kubernetes'))).filter((f) => f.endsWith('.yaml') && f !== 'secrets.yaml')) {
      const [kubeDoc] = await docsOf(join(EXAMPLES, 'kubernetes', file));
      const [doc] = await docsOf(join(EXAMPLES, file));
      assert.deepEqual(kubeDoc, doc, file);
      assert.deepEqual(validateResource({ ...doc, metadata: { ...doc!.metadata, namespace: NS } }), [], file);
    }
  });

  it('accepts every other sidestash.io example but Secret (server-side dry run), without pruning', async () => {
    const files = (await readdir(EXAMPLES)).filter((f) => f.endsWith('.yaml'));
    let checked = 0;
    for (const file of files) {
      for (const doc of await docsOf(join(EXAMPLES, file))) {
        if (doc.kind === 'Secret') continue;
        const out = JSON.parse(await kube.kubectlOk(['create', '-n', NS, '--dry-run=server', '-o', 'json', '-f', '-'], { input: JSON.stringify({ ...doc, metadata: { ...doc.metadata, name: `dry-${doc.metadata.name}` } }) }));
        assert.deepEqual(out.spec, doc.spec, `${file}: ${doc.kind}`);
        checked++;
      }
    }
    assert.ok(checked >= 6, `examples checked: ${checked}`);
  });
});

const base: Record<string, Doc> = {
  Repository: { apiVersion: 'sidestash.io/v1', kind: 'Repository', metadata: { name: 'bad' }, spec: { backend: { local: { path: '/srv/backups/x' }, storageSecretName: 's' } } },
  BackupConfiguration: { apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name: 'bad' }, spec: { schedule: '0 * * * *', repository: { name: 'r' }, target: { ref: { kind: 'AppBinding', name: 'a' } } } },
  RestoreSession: { apiVersion: 'sidestash.io/v1', kind: 'RestoreSession', metadata: { name: 'bad' }, spec: { repository: { name: 'r' }, target: { ref: { name: 'a' } } } },
  AppBinding: { apiVersion: 'sidestash.io/v1', kind: 'AppBinding', metadata: { name: 'bad' }, spec: { clientConfig: { host: 'db' }, secret: { name: 's' } } },
  BackupSession: { apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: { name: 'bad' }, spec: { invoker: { kind: 'BackupConfiguration', name: 'bc' } } },
};

// Each: a change to a valid object, the field the server must name, and what it must say.
const invalid: { what: string; kind: string; change: (spec: any) => void; field: string; server: RegExp }[] = [
  { what: 'an unknown field under spec (kubectl validates strictly)', kind: 'Repository', change: (s) => (s.backend.locall = { path: '/x' }), field: 'spec.backend.locall', server: /unknown field "spec\.backend\.locall"/ },
  { what: 'an unknown top-level spec field', kind: 'BackupConfiguration', change: (s) => (s.schedulle = '0 * * * *'), field: 'spec.schedulle', server: /unknown field "spec\.schedulle"/ },
  { what: 'a wrong type', kind: 'BackupConfiguration', change: (s) => (s.paused = 'yes'), field: 'spec.paused', server: /spec\.paused: Invalid value: "string": spec\.paused in body must be of type boolean/ },
  { what: 'a missing required field', kind: 'BackupConfiguration', change: (s) => delete s.schedule, field: 'spec.schedule', server: /spec\.schedule: Required value/ },
  { what: 'a missing required nested field', kind: 'AppBinding', change: (s) => delete s.secret.name, field: 'spec.secret.name', server: /spec\.secret\.name: Required value/ },
  { what: 'a value against the pattern', kind: 'RestoreSession', change: (s) => (s.snapshot = 'newest!'), field: 'spec.snapshot', server: /spec\.snapshot: Invalid value: "newest!": spec\.snapshot in body should match/ },
  { what: 'a schedule without five fields', kind: 'BackupConfiguration', change: (s) => (s.schedule = 'hourly'), field: 'spec.schedule', server: /spec\.schedule: Invalid value: "hourly"/ },
  { what: 'a value outside the enum', kind: 'Repository', change: (s) => (s.backend = { s3: { endpoint: 'https://s3', bucket: 'b', bucketLookup: 'virtual' }, storageSecretName: 's' }), field: 'spec.backend.s3.bucketLookup', server: /spec\.backend\.s3\.bucketLookup: Unsupported value: "virtual": supported values: "auto", "path", "dns"/ },
  { what: 'a constant kind (const as a one-value enum)', kind: 'BackupConfiguration', change: (s) => (s.target.ref.kind = 'Deployment'), field: 'spec.target.ref.kind', server: /spec\.target\.ref\.kind: Unsupported value: "Deployment": supported values: "AppBinding"/ },
  { what: 'two backends (oneOf)', kind: 'Repository', change: (s) => (s.backend.rest = { url: 'https://rest' }), field: 'spec.backend', server: /"spec\.backend" must validate one and only one schema \(oneOf\)\. Found 2 valid alternatives/ },
  { what: 'no backend (oneOf)', kind: 'Repository', change: (s) => delete s.backend.local, field: 'spec.backend', server: /"spec\.backend" must validate one and only one schema \(oneOf\)\. Found none valid/ },
  { what: 'neither socket nor host (anyOf)', kind: 'AppBinding', change: (s) => (s.clientConfig = { port: 3306 }), field: 'spec.clientConfig', server: /"spec\.clientConfig" must validate at least one schema \(anyOf\)/ },
  { what: 'a number under its minimum', kind: 'BackupConfiguration', change: (s) => (s.retentionPolicy = { keepLast: -2 }), field: 'spec.retentionPolicy.keepLast', server: /spec\.retentionPolicy\.keepLast: Invalid value: -2: spec\.retentionPolicy\.keepLast in body should be greater than or equal to -1/ },
  { what: 'a port over its maximum', kind: 'AppBinding', change: (s) => (s.clientConfig.port = 70000), field: 'spec.clientConfig.port', server: /spec\.clientConfig\.port: Invalid value: 70000: spec\.clientConfig\.port in body should be less than or equal to 65535/ },
  { what: 'an empty required string (minLength)', kind: 'BackupSession', change: (s) => (s.invoker.name = ''), field: 'spec.invoker.name', server: /spec\.invoker\.name: Invalid value: "": spec\.invoker\.name in body should be at least 1 chars long/ },
  { what: 'a missing spec', kind: 'BackupSession', change: () => undefined, field: 'spec', server: /spec: Required value/ },
  // Stash's spelling that sidestash cannot honour (stash-spelling.ts): refused, not ignored.
  { what: "another database's Stash task", kind: 'BackupConfiguration', change: (s) => (s.task = { name: 'postgres-backup-14.0' }), field: 'spec.task.name', server: /spec\.task\.name: Invalid value: "postgres-backup-14\.0": spec\.task\.name in body should match/ },
  { what: "a Stash task's params (use spec.dumpArgs)", kind: 'BackupConfiguration', change: (s) => (s.task = { name: 'mariadb-backup-10.5.8', params: [{ name: 'args', value: '--databases shop' }] }), field: 'spec.task.params', server: /unknown field "spec\.task\.params"/ },
  { what: 'a backup task in a RestoreSession', kind: 'RestoreSession', change: (s) => (s.task = { name: 'mariadb-backup-10.5.8' }), field: 'spec.task.name', server: /spec\.task\.name: Invalid value: "mariadb-backup-10\.5\.8"/ },
  { what: 'an invoker apiGroup not on the list', kind: 'BackupSession', change: (s) => (s.invoker.apiGroup = 'apps'), field: 'spec.invoker.apiGroup', server: /spec\.invoker\.apiGroup: Unsupported value: "apps": supported values: "stash\.appscode\.com", "sidestash\.io"/ },
  { what: 'two restore rules', kind: 'RestoreSession', change: (s) => (s.target.rules = [{ snapshots: ['latest'] }, { snapshots: ['abcd1234'] }]), field: 'spec.target.rules', server: /spec\.target\.rules: Too many: 2: must have at most 1 item\b/ },
  { what: 'two snapshots in a rule', kind: 'RestoreSession', change: (s) => (s.target.rules = [{ snapshots: ['latest', 'abcd1234'] }]), field: 'spec.target.rules[0].snapshots', server: /spec\.target\.rules\[0\]\.snapshots: Too many: 2: must have at most 1 item\b/ },
  { what: "a rule's paths (files, not a database)", kind: 'RestoreSession', change: (s) => (s.target.rules = [{ paths: ['/var/lib/mysql'] }]), field: 'spec.target.rules[0].paths', server: /unknown field "spec\.target\.rules\[0\]\.paths"/ },
  { what: 'a url with a password', kind: 'AppBinding', change: (s) => (s.clientConfig = { url: 'mysql://root:pw@db:3306/' }), field: 'spec.clientConfig.url', server: /spec\.clientConfig\.url: Invalid value: "mysql:\/\/root:pw@db:3306\/": spec\.clientConfig\.url in body should match/ },
  { what: 'a service name with a dot (another host)', kind: 'AppBinding', change: (s) => (s.clientConfig = { service: { name: 'db.other', port: 3306 } }), field: 'spec.clientConfig.service.name', server: /spec\.clientConfig\.service\.name: Invalid value: "db\.other"/ },
  { what: 'a service scheme not on the list', kind: 'AppBinding', change: (s) => (s.clientConfig = { service: { name: 'db', scheme: 'postgresql' } }), field: 'spec.clientConfig.service.scheme', server: /spec\.clientConfig\.service\.scheme: Unsupported value: "postgresql"/ },
  { what: 'an S3 endpoint with another scheme', kind: 'Repository', change: (s) => (s.backend = { s3: { endpoint: 'ftp://s3.amazonaws.com', bucket: 'b' }, storageSecretName: 's' }), field: 'spec.backend.s3.endpoint', server: /spec\.backend\.s3\.endpoint: Invalid value: "ftp:\/\/s3\.amazonaws\.com"/ },
];

describe('invalid objects are refused by the API server with the field path', () => {
  for (const c of invalid) {
    it(`refuses ${c.what}: ${c.kind} ${c.field}`, async () => {
      const doc = structuredClone(base[c.kind]!);
      doc.metadata.name = `bad-${invalid.indexOf(c)}`;
      c.change(doc.spec);
      if (c.field === 'spec') delete doc.spec;
      // The HTTP API refuses it at the same field (one source of truth).
      const apiErrors = validateResource({ ...doc, metadata: { ...doc.metadata, namespace: NS } }).map((e) => e.field);
      assert.ok(apiErrors.includes(c.field), `the HTTP API names ${c.field}: ${JSON.stringify(apiErrors)}`);
      // The unmodified object is accepted, so the refusal is the change's.
      const good = structuredClone(base[c.kind]!);
      good.metadata.name = `good-${invalid.indexOf(c)}`;
      await kube.kubectlOk(['apply', '-n', NS, '--dry-run=server', '-f', '-'], { input: JSON.stringify(good) });
      const r = await kube.kubectl(['apply', '-n', NS, '-f', '-'], { input: JSON.stringify(doc) });
      assert.notEqual(r.code, 0, `accepted: ${r.stdout}`);
      assert.match(r.stderr, c.server);
      const got = await kube.kubectl(['-n', NS, 'get', `${plural(c.kind)}.sidestash.io`, doc.metadata.name]);
      assert.match(got.stderr, /NotFound/, 'nothing stored');
    });
  }
});

describe('kubectl get', () => {
  it('shows a BackupSession\'s status written through /status in the printer columns', async () => {
    const session = { ...base.BackupSession!, metadata: { name: 'shop-backup-1' }, spec: { invoker: { kind: 'BackupConfiguration', name: 'shop-backup' }, trigger: 'manual' } };
    await kube.kubectlOk(['apply', '-n', NS, '-f', '-'], { input: JSON.stringify(session) });
    // Status is a subresource: a write of the main resource leaves it alone.
    await kube.kubectlOk(['-n', NS, 'patch', 'backupsessions.sidestash.io', 'shop-backup-1', '--type', 'merge', '-p', '{"status":{"phase":"Failed"}}']);
    assert.equal((await getJson('backupsessions.sidestash.io', 'shop-backup-1')).status, undefined, 'status ignored on the main resource');
    const status = { phase: 'Running', progress: { percent: 42, bytesDumped: 1048576, bytesStored: 524288, rateBytesPerSecond: 1000, updatedAt: new Date().toISOString() }, bytesRead: 1048576, snapshotId: '3f2a9c1d', durationSeconds: 17, agent: 'shop/shop-db-0' };
    const r = await kube.request('PATCH', `/apis/sidestash.io/v1/namespaces/${NS}/backupsessions/shop-backup-1/status`, { status });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual((await getJson('backupsessions.sidestash.io', 'shop-backup-1')).status, status, 'the whole status is kept (preserve-unknown-fields)');
    const table = parseTable(await kube.kubectlOk(['-n', NS, 'get', 'backupsessions']));
    const defaultColumns = PRINTER_COLUMNS.BackupSession.filter((c) => !c.priority).map((c) => c.name.toUpperCase());
    assert.deepEqual(table[0], ['NAME', ...defaultColumns]);
    assert.deepEqual(table[0], ['NAME', 'INVOKER', 'PHASE', 'PROGRESS', 'SIZE', 'SNAPSHOT', 'DURATION', 'AGE']);
    const row = table.find((cells) => cells[0] === 'shop-backup-1')!;
    assert.deepEqual(row.slice(0, 7), ['shop-backup-1', 'shop-backup', 'Running', '42', '1048576', '3f2a9c1d', '17']);
    const wide = await kube.kubectlOk(['-n', NS, 'get', 'backupsessions', '-o', 'wide']);
    assert.match(wide.split('\n')[0]!, /TRIGGER\s+MESSAGE/);
    assert.match(wide, /manual/);
  });

  it('shows a BackupConfiguration\'s schedule, pause and last outcome', async () => {
    const time = '2026-01-02T03:04:05Z';
    const r = await kube.request('PATCH', `/apis/sidestash.io/v1/namespaces/${NS}/backupconfigurations/shop-backup/status`, { status: { lastSuccessTime: time, lastFinishedPhase: 'Succeeded' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await kube.kubectlOk(['-n', NS, 'patch', 'bc', 'shop-backup', '--type', 'merge', '-p', '{"spec":{"paused":true}}']);
    const [head, row] = parseTable(await kube.kubectlOk(['-n', NS, 'get', 'bc', 'shop-backup']));
    assert.deepEqual(head, ['NAME', 'SCHEDULE', 'PAUSED', 'LAST-SUCCESS', 'LAST-PHASE', 'AGE']);
    assert.equal(row![1], '*/30 * * * *');
    assert.equal(row![2], 'true');
    assert.match(row![3]!, /^\d+d$/, 'a date column shows an age');
    assert.equal(row![4], 'Succeeded');
  });

  it("shows the snapshot and source host of a RestoreSession in Stash's spelling with -o wide", async () => {
    const stash = { apiVersion: 'sidestash.io/v1', kind: 'RestoreSession', metadata: { name: 'stash-rules' }, spec: { repository: { name: 'shop-repo' }, target: { ref: { kind: 'AppBinding', name: 'shop-db' }, rules: [{ sourceHost: 'host-0', snapshots: ['latest'] }] } } };
    await kube.kubectlOk(['apply', '-n', NS, '-f', '-'], { input: JSON.stringify(stash) });
    const [head, row] = parseTable(await kube.kubectlOk(['-n', NS, 'get', 'restoresessions', 'stash-rules', '-o', 'wide']));
    const cell = (name: string): string | undefined => row![head!.indexOf(name)];
    assert.equal(cell('SNAPSHOT'), '', 'spec.snapshot is not set');
    assert.equal(cell('RULE-SNAPSHOT'), 'latest');
    assert.equal(cell('SOURCE-HOST'), 'host-0');
    await kube.kubectlOk(['-n', NS, 'delete', 'restoresessions.sidestash.io', 'stash-rules']);
  });

  it('lists every kind under the sidestash category', async () => {
    const restore = { apiVersion: 'sidestash.io/v1', kind: 'RestoreSession', metadata: { name: 'shop-restore' }, spec: { repository: { name: 'shop-repo' }, target: { ref: { kind: 'AppBinding', name: 'shop-db' } }, snapshot: 'latest' } };
    await kube.kubectlOk(['apply', '-n', NS, '-f', '-'], { input: JSON.stringify(restore) });
    const names = (await kube.kubectlOk(['-n', NS, 'get', 'sidestash', '-o', 'name'])).trim().split('\n').sort();
    assert.deepEqual(names, [
      'appbinding.sidestash.io/shop-db',
      'backupconfiguration.sidestash.io/shop-backup',
      'backupsession.sidestash.io/shop-backup-1',
      'repository.sidestash.io/shop-repo',
      'restoresession.sidestash.io/shop-restore',
    ]);
  });

  it('resolves the short names, and leaves the core ones alone', async () => {
    const want: Record<string, string> = { Repository: 'repository.sidestash.io/shop-repo', BackupConfiguration: 'backupconfiguration.sidestash.io/shop-backup', BackupSession: 'backupsession.sidestash.io/shop-backup-1', RestoreSession: 'restoresession.sidestash.io/shop-restore' };
    for (const [kind, shortNames] of Object.entries(SHORT_NAMES)) {
      for (const s of shortNames) assert.equal((await kube.kubectlOk(['-n', NS, 'get', s, '-o', 'name'])).trim(), want[kind], s);
    }
    assert.deepEqual(Object.values(SHORT_NAMES).flat().sort(), ['bc', 'bs', 'repo', 'restore']);
    // "rs" stays ReplicaSets (Stash's short name for RestoreSession would take it).
    const rs = await kube.kubectl(['-n', NS, 'get', 'rs', '-o', 'name']);
    assert.equal(rs.code, 0, rs.stderr);
    assert.equal(rs.stdout.trim(), '');
  });
});

// Stash's MariaDB YAML as its docs give it (KubeDB's AppBinding, an S3 Repository, a
// BackupConfiguration with its Task, an instant BackupSession, a RestoreSession with rules), with
// only apiVersion changed to sidestash.io/v1: the API server stores each without pruning a field
// (kubectl validates strictly), and the HTTP API accepts each. What each Stash field means is
// stash-spelling.ts's (its tests, and controller/sessions/stash-assignment.test.ts for the
// assignment these documents give); what sidestash refuses of Stash's spelling is in `invalid`.
const stashDocs: Doc[] = [
  { apiVersion: 'sidestash.io/v1', kind: 'Repository', metadata: { name: 's3-repo' }, spec: { backend: { s3: { endpoint: 's3.amazonaws.com', bucket: 'stash-demo', prefix: '/mariadb/sample-mariadb' }, storageSecretName: 's3-secret' } } },
  { apiVersion: 'sidestash.io/v1', kind: 'AppBinding', metadata: { name: 'sample-mariadb' }, spec: { clientConfig: { service: { name: 'sample-mariadb', path: '/', port: 3306, scheme: 'mysql' }, url: 'tcp(sample-mariadb.demo.svc:3306)/' }, secret: { name: 'sample-mariadb-auth' }, type: 'kubedb.com/mariadb', version: '10.5.8' } },
  { apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name: 'sample-mariadb-backup' }, spec: { schedule: '*/5 * * * *', task: { name: 'mariadb-backup-10.5.8' }, repository: { name: 's3-repo' }, target: { ref: { apiVersion: 'appcatalog.appscode.com/v1alpha1', kind: 'AppBinding', name: 'sample-mariadb' } }, retentionPolicy: { name: 'keep-last-5', keepLast: 5, prune: true } } },
  { apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: { name: 'instant-backup' }, spec: { invoker: { apiGroup: 'stash.appscode.com', kind: 'BackupConfiguration', name: 'sample-mariadb-backup' } } },
  { apiVersion: 'sidestash.io/v1', kind: 'RestoreSession', metadata: { name: 'sample-mariadb-restore' }, spec: { task: { name: 'mariadb-restore-10.5.8' }, repository: { name: 's3-repo' }, target: { ref: { apiVersion: 'appcatalog.appscode.com/v1alpha1', kind: 'AppBinding', name: 'restored-mariadb' }, rules: [{ snapshots: ['latest'] }] } } },
  // Stash's migration case: the newest snapshot of Stash's host, and one snapshot by id.
  { apiVersion: 'sidestash.io/v1', kind: 'RestoreSession', metadata: { name: 'from-stash-host' }, spec: { repository: { name: 's3-repo' }, target: { ref: { kind: 'AppBinding', name: 'sample-mariadb' }, rules: [{ sourceHost: 'host-0', snapshots: ['latest'] }] } } },
  { apiVersion: 'sidestash.io/v1', kind: 'RestoreSession', metadata: { name: 'by-id' }, spec: { repository: { name: 's3-repo' }, target: { ref: { kind: 'AppBinding', name: 'sample-mariadb' }, rules: [{ snapshots: ['4c1d0e9a'] }] } } },
];

describe("Stash's YAML with the group changed", () => {
  for (const doc of stashDocs) {
    it(`${doc.kind} ${doc.metadata.name}: accepted by the API server and the HTTP API, every field kept`, async () => {
      assert.deepEqual(validateResource({ ...doc, metadata: { ...doc.metadata, namespace: NS } }), [], 'the HTTP API accepts it');
      const r = await kube.kubectl(['create', '-n', NS, '--dry-run=server', '-o', 'json', '-f', '-'], { input: JSON.stringify(doc) });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout).spec, doc.spec, 'stored as written: nothing pruned');
    });
  }
});
