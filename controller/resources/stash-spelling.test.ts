// Stash's spelling (stash-spelling.ts): what each field means, on tables, and that the HTTP API's
// validation accepts Stash's fields and refuses what sidestash cannot honour, naming the field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appBindingAddress, parseDatabaseUrl, restoreSelection, s3EndpointUrl, sessionTimeout } from './stash-spelling.ts';
import { validateResource } from './validate.ts';

describe('parseDatabaseUrl', () => {
  const table: [string, { host: string; port?: number } | undefined][] = [
    ['tcp(sample-mariadb.demo.svc:3306)/', { host: 'sample-mariadb.demo.svc', port: 3306 }],
    ['tcp(db)/', { host: 'db' }],
    ['tcp(10.0.0.7:3307)/', { host: '10.0.0.7', port: 3307 }],
    ['mysql://db.shop.svc:3306', { host: 'db.shop.svc', port: 3306 }],
    ['mysql://db.shop.svc:3306/', { host: 'db.shop.svc', port: 3306 }],
    ['mariadb://db', { host: 'db' }],
    ['tcp://db:3306/', { host: 'db', port: 3306 }],
    // Refused: anything beyond host and port.
    ['tcp(db:3306)/shop', undefined],
    ['tcp(db:3306)/?tls=true', undefined],
    ['root:pw@tcp(db:3306)/', undefined],
    ['mysql://root:pw@db:3306/', undefined],
    ['mysql://db:3306/shop', undefined],
    ['mysql://db:3306/?ssl=false', undefined],
    ['unix(/run/mysqld/mysqld.sock)/', undefined],
    ['postgres://db:5432/', undefined],
    ['http://db:3306/', undefined],
    ['tcp(db:3306)', undefined],
    ['tcp(-db:3306)/', undefined],
    ['tcp(db:3306)/\n', undefined],
    ['mysql://db:33060000/', undefined],
    ['mysql://[::1]:3306/', undefined],
    ['', undefined],
  ];
  for (const [url, want] of table) it(JSON.stringify(url), () => assert.deepEqual(parseDatabaseUrl(url), want));
});

describe('appBindingAddress', () => {
  const table: [string, unknown, string, { host?: string; port?: number; socket?: string } | undefined, RegExp?][] = [
    ['a socket', { socket: '/run/mysqld/mysqld.sock' }, 'shop', { socket: '/run/mysqld/mysqld.sock' }],
    ['host and port', { host: 'db', port: 3307 }, 'shop', { host: 'db', port: 3307 }],
    ["KubeDB's service and url: the service wins, as in Stash", { service: { name: 'sample-mariadb', path: '/', port: 3306, scheme: 'mysql' }, url: 'tcp(sample-mariadb.demo.svc:3306)/' }, 'shop', { host: 'sample-mariadb.shop.svc', port: 3306 }],
    ['a service in its own namespace, named', { service: { name: 'db', namespace: 'shop', port: 3306 } }, 'shop', { host: 'db.shop.svc', port: 3306 }],
    ['a service without a port (the default port)', { service: { name: 'db' } }, 'shop', { host: 'db.shop.svc' }],
    ['a url alone', { url: 'mysql://db.example.com:3310/' }, 'shop', { host: 'db.example.com', port: 3310 }],
    ['a DSN url alone', { url: 'tcp(db:3306)/' }, 'shop', { host: 'db', port: 3306 }],
    ['a service in another namespace', { service: { name: 'db', namespace: 'other', port: 3306 } }, 'shop', undefined, /spec\.clientConfig\.service\.namespace: must be the AppBinding's own namespace "shop"/],
    ['a service name with a dot (another host)', { service: { name: 'db.other', port: 3306 } }, 'shop', undefined, /spec\.clientConfig\.service\.name/],
    ['a url with a database', { url: 'tcp(db:3306)/shop' }, 'shop', undefined, /spec\.clientConfig\.url: must be tcp\(host:port\)\//],
    ['a url with a password, beside a service', { service: { name: 'db' }, url: 'mysql://root:pw@db/' }, 'shop', undefined, /spec\.clientConfig\.url/],
    ['a url with a port over 65535', { url: 'tcp(db:70000)/' }, 'shop', undefined, /spec\.clientConfig\.url: port 70000 is not between 1 and 65535/],
    ['both spellings: host and service', { host: 'db', service: { name: 'db' } }, 'shop', undefined, /spec\.clientConfig: set sidestash's host or Stash's service, not both/],
    ['both spellings: socket and url', { socket: '/s', url: 'tcp(db)/' }, 'shop', undefined, /set sidestash's socket or Stash's url, not both/],
    ['nothing', {}, 'shop', undefined, /spec\.clientConfig: set socket or host, or Stash's service or url/],
    ['a port alone', { port: 3306 }, 'shop', undefined, /spec\.clientConfig: set socket or host/],
    ['not an object', 'db:3306', 'shop', undefined, /spec\.clientConfig/],
  ];
  for (const [name, cc, ns, want, problem] of table) {
    it(name, () => {
      const r = appBindingAddress(cc, ns);
      assert.deepEqual(r.address, want);
      if (problem) assert.match(r.problems.map((p) => `${p.field}: ${p.message}`).join('\n'), problem);
      else assert.deepEqual(r.problems, []);
    });
  }
});

describe('restoreSelection', () => {
  const target = (rules?: unknown): Record<string, unknown> => ({ ref: { kind: 'AppBinding', name: 'db' }, ...(rules === undefined ? {} : { rules }) });
  const table: [string, Record<string, unknown>, { snapshot: string; sourceHost?: string } | undefined, RegExp?][] = [
    ['nothing: latest', { target: target() }, { snapshot: 'latest' }],
    ['spec.snapshot', { target: target(), snapshot: 'abcdef12' }, { snapshot: 'abcdef12' }],
    ['spec.sourceHost with latest', { target: target(), snapshot: 'latest', sourceHost: 'host-0' }, { snapshot: 'latest', sourceHost: 'host-0' }],
    ["Stash's rule with latest", { target: target([{ snapshots: ['latest'] }]) }, { snapshot: 'latest' }],
    ["Stash's rule with an id", { target: target([{ snapshots: ['4c1d0e9a'] }]) }, { snapshot: '4c1d0e9a' }],
    ["Stash's rule with a source host and latest", { target: target([{ sourceHost: 'host-0', snapshots: ['latest'] }]) }, { snapshot: 'latest', sourceHost: 'host-0' }],
    ["Stash's rule with a source host, no snapshots (latest, as in Stash)", { target: target([{ sourceHost: 'host-0' }]) }, { snapshot: 'latest', sourceHost: 'host-0' }],
    ['an empty rule: latest', { target: target([{}]) }, { snapshot: 'latest' }],
    ['no rules: latest', { target: target([]) }, { snapshot: 'latest' }],
    ['a rule with empty snapshots: latest', { target: target([{ snapshots: [] }]) }, { snapshot: 'latest' }],
    ['two rules', { target: target([{ snapshots: ['latest'] }, { snapshots: ['abcd1234'] }]) }, undefined, /^spec\.target\.rules: must hold at most one rule/],
    ['two snapshots', { target: target([{ snapshots: ['abcd1234', 'bcde2345'] }]) }, undefined, /^spec\.target\.rules\[0\]\.snapshots: must hold at most one snapshot/],
    ['both spellings: snapshot and rules', { target: target([{ snapshots: ['latest'] }]), snapshot: 'latest' }, undefined, /^spec\.target\.rules: set the snapshot with sidestash's spec\.snapshot or with Stash's spec\.target\.rules, not both/],
    ['both spellings: sourceHost and an empty rule list', { target: target([]), sourceHost: 'host-0' }, undefined, /spec\.sourceHost or with Stash's/],
    ['a rule: source host with an id', { target: target([{ sourceHost: 'host-0', snapshots: ['abcd1234'] }]) }, undefined, /^spec\.target\.rules\[0\]\.sourceHost: sourceHost selects the newest snapshot of a host/],
    ['spec: source host with an id', { target: target(), snapshot: 'abcd1234', sourceHost: 'host-0' }, undefined, /^spec\.sourceHost: sourceHost selects/],
  ];
  for (const [name, spec, want, problem] of table) {
    it(name, () => {
      const r = restoreSelection(spec);
      assert.deepEqual(r.selection, want);
      if (problem) assert.match(r.problems.map((p) => `${p.field}: ${p.message}`).join('\n'), problem);
      else assert.deepEqual(r.problems, []);
    });
  }
});

describe('s3EndpointUrl', () => {
  const table: [string, string][] = [
    ['s3.amazonaws.com', 'https://s3.amazonaws.com'],
    ['minio.storage:9000', 'https://minio.storage:9000'],
    ['http://minio.storage:9000', 'http://minio.storage:9000'],
    ['https://s3.eu-central-1.amazonaws.com', 'https://s3.eu-central-1.amazonaws.com'],
    ['HTTPS://S3.AMAZONAWS.COM', 'HTTPS://S3.AMAZONAWS.COM'],
  ];
  for (const [endpoint, want] of table) it(endpoint, () => assert.equal(s3EndpointUrl(endpoint), want));
});

describe('sessionTimeout', () => {
  const table: [string, Record<string, unknown>, { timeout?: unknown; field: string } | undefined][] = [
    ['none', {}, { timeout: undefined, field: 'spec.timeout' }],
    ["sidestash's timeout", { timeout: '2h' }, { timeout: '2h', field: 'spec.timeout' }],
    ["Stash's timeOut (a Go duration)", { timeOut: '1h30m0s' }, { timeout: '1h30m0s', field: 'spec.timeOut' }],
    ['both', { timeout: '2h', timeOut: '2h' }, undefined],
  ];
  for (const [name, spec, want] of table) {
    it(name, () => {
      const r = sessionTimeout(spec);
      if (want) assert.deepEqual(r, { ...want, problems: [] });
      else assert.deepEqual(r.problems, [{ field: 'spec.timeOut', message: "set sidestash's spec.timeout or Stash's spec.timeOut, not both" }]);
    });
  }
});

const doc = (kind: string, spec: Record<string, unknown>): unknown => ({ apiVersion: 'sidestash.io/v1', kind, metadata: { name: 'x', namespace: 'shop' }, spec });
const config = (extra: Record<string, unknown>): unknown => doc('BackupConfiguration', { schedule: '0 1 * * *', repository: { name: 'repo' }, target: { ref: { kind: 'AppBinding', name: 'db' } }, ...extra });
const restore = (extra: Record<string, unknown>): unknown => doc('RestoreSession', { repository: { name: 'repo' }, target: { ref: { kind: 'AppBinding', name: 'db' } }, ...extra });
const s3 = (endpoint: string): unknown => doc('Repository', { backend: { s3: { endpoint, bucket: 'b' }, storageSecretName: 's' } });
const app = (clientConfig: unknown): unknown => doc('AppBinding', { clientConfig, secret: { name: 's' } });
const session = (invoker: Record<string, unknown>): unknown => doc('BackupSession', { invoker: { kind: 'BackupConfiguration', name: 'bc', ...invoker } });

describe("the HTTP API's validation of Stash's fields", () => {
  const table: [string, unknown, RegExp | undefined][] = [
    ['a MariaDB backup task', config({ task: { name: 'mariadb-backup-10.5.8' } }), undefined],
    ['a MySQL backup task with a catalog suffix', config({ task: { name: 'mysql-backup-8.0.21-v2' } }), undefined],
    ['a task without a name (KubeDB)', config({ task: {} }), undefined],
    ['a postgres backup task', config({ task: { name: 'postgres-backup-14.0' } }), /^spec\.task\.name: must be one of Stash's MariaDB or MySQL backup tasks.*"postgres-backup-14\.0" is a postgres task/],
    ['a restore task in a BackupConfiguration', config({ task: { name: 'mariadb-restore-10.5.8' } }), /^spec\.task\.name: must be one of Stash's MariaDB or MySQL backup tasks/],
    ["a task's params (not honoured: use spec.dumpArgs)", config({ task: { name: 'mariadb-backup-10.5.8', params: [{ name: 'args', value: '--databases shop' }] } }), /^spec\.task\.params: unknown field/],
    ["Stash's timeOut", config({ timeOut: '1h30m0s' }), undefined],
    ["Stash's timeOut in a RestoreSession", restore({ timeOut: '30m' }), undefined],
    ["Stash's timeOut under 1s", config({ timeOut: '500ms' }), /^spec\.timeOut: must be at least 1s/],
    ["Stash's timeOut over 7 days", restore({ timeOut: '200h' }), /^spec\.timeOut: must be at most 168h/],
    ["Stash's timeOut not a duration", config({ timeOut: '2 hours' }), /^spec\.timeOut: must be a duration/],
    ['timeout and timeOut', config({ timeout: '2h', timeOut: '2h' }), /^spec\.timeOut: set sidestash's spec\.timeout or Stash's spec\.timeOut, not both/],
    ['a MariaDB restore task', restore({ task: { name: 'mariadb-restore-10.5.8' } }), undefined],
    ['a backup task in a RestoreSession', restore({ task: { name: 'mariadb-backup-10.5.8' } }), /^spec\.task\.name: must be one of Stash's MariaDB or MySQL restore tasks/],
    ["Stash's invoker group", session({ apiGroup: 'stash.appscode.com' }), undefined],
    ["sidestash's invoker group", session({ apiGroup: 'sidestash.io' }), undefined],
    ['another invoker group', session({ apiGroup: 'apps' }), /^spec\.invoker\.apiGroup: must be \["stash\.appscode\.com","sidestash\.io"\]/],
    ['an S3 endpoint without a scheme', s3('s3.amazonaws.com'), undefined],
    ['an S3 endpoint host:port without a scheme', s3('minio.storage:9000'), undefined],
    ['an S3 endpoint with https', s3('https://s3.amazonaws.com'), undefined],
    ['an S3 endpoint with another scheme', s3('ftp://s3.amazonaws.com'), /^spec\.backend\.s3\.endpoint: must be an http:\/\/ or https:\/\/ URL, or a host\[:port\] without a scheme/],
    ['an S3 endpoint with a space', s3('s3 .amazonaws.com'), /^spec\.backend\.s3\.endpoint/],
    ["KubeDB's AppBinding", doc('AppBinding', { clientConfig: { service: { name: 'sample-mariadb', path: '/', port: 3306, scheme: 'mysql' }, url: 'tcp(sample-mariadb.demo.svc:3306)/' }, secret: { name: 's' }, type: 'kubedb.com/mariadb', version: '10.5.8' }), undefined],
    ['a service scheme not on the list', app({ service: { name: 'db', scheme: 'postgresql' } }), /^spec\.clientConfig\.service\.scheme: must be \["mysql","mariadb","tcp"\]/],
    ['a service path naming a database', app({ service: { name: 'db', path: '/shop' } }), /^spec\.clientConfig\.service\.path/],
    ['a service query', app({ service: { name: 'db', query: 'tls=true' } }), /^spec\.clientConfig\.service\.query: unknown field/],
    ['a service in another namespace', app({ service: { name: 'db', namespace: 'other' } }), /^spec\.clientConfig\.service\.namespace: must be the AppBinding's own namespace/],
    ['a url with a user', app({ url: 'mysql://root@db:3306/' }), /^spec\.clientConfig\.url: must be tcp\(host:port\)\//],
    ['both spellings of the address', app({ host: 'db', url: 'tcp(db:3306)/' }), /^spec\.clientConfig: set sidestash's host or Stash's url, not both/],
    ["Stash's rule", restore({ target: { ref: { kind: 'AppBinding', name: 'db' }, rules: [{ sourceHost: 'host-0', snapshots: ['latest'] }] } }), undefined],
    ['two rules', restore({ target: { ref: { name: 'db' }, rules: [{ snapshots: ['latest'] }, { snapshots: ['latest'] }] } }), /^spec\.target\.rules: must hold at most one rule: sidestash restores one database from one snapshot/],
    ['two snapshots', restore({ target: { ref: { name: 'db' }, rules: [{ snapshots: ['latest', 'abcd1234'] }] } }), /^spec\.target\.rules\[0\]\.snapshots: must hold at most one snapshot/],
    ["a rule's paths (files, not a database)", restore({ target: { ref: { name: 'db' }, rules: [{ paths: ['/var/lib/mysql'] }] } }), /^spec\.target\.rules\[0\]\.paths: unknown field/],
    ["a rule's targetHosts", restore({ target: { ref: { name: 'db' }, rules: [{ targetHosts: ['host-0'], snapshots: ['latest'] }] } }), /^spec\.target\.rules\[0\]\.targetHosts: unknown field/],
    ['a bad snapshot in a rule', restore({ target: { ref: { name: 'db' }, rules: [{ snapshots: ['newest'] }] } }), /^spec\.target\.rules\[0\]\.snapshots\[0\]: must be "latest" or a snapshot ID/],
    ['both spellings of the snapshot', restore({ snapshot: 'latest', target: { ref: { name: 'db' }, rules: [{ snapshots: ['latest'] }] } }), /^spec\.target\.rules: set the snapshot with sidestash's spec\.snapshot or with Stash's spec\.target\.rules, not both/],
    ['a rule: source host with an id', restore({ target: { ref: { name: 'db' }, rules: [{ sourceHost: 'host-0', snapshots: ['abcd1234'] }] } }), /^spec\.target\.rules\[0\]\.sourceHost: sourceHost selects the newest snapshot/],
  ];
  for (const [name, d, want] of table) {
    it(name, () => {
      const errors = validateResource(d).map((e) => `${e.field}: ${e.message}`);
      if (!want) assert.deepEqual(errors, []);
      else assert.match(errors.join('\n'), want, JSON.stringify(errors));
    });
  }
});

describe("Stash's fields sidestash does not take: the HTTP API says why", () => {
  const table: [string, unknown, string, RegExp][] = [
    ['task params', config({ task: { name: 'mariadb-backup-10.5.8', params: [{ name: 'args', value: '--databases shop' }] } }), 'spec.task.params', /^unknown field: Stash's task params are not taken; give mariadb-dump's options as spec\.dumpArgs/],
    ['runtimeSettings', config({ runtimeSettings: { container: {} } }), 'spec.runtimeSettings', /^unknown field: sidestash streams the dump through its agent sidecar/],
    ['interimVolumeTemplate', restore({ interimVolumeTemplate: {} }), 'spec.interimVolumeTemplate', /agent sidecar/],
    ["a rule's paths", restore({ target: { ref: { name: 'db' }, rules: [{ paths: ['/x'] }] } }), 'spec.target.rules[0].paths', /^unknown field: a database dump is restored whole/],
    ['a target alias', config({ target: { alias: 'db', ref: { name: 'db' } } }), 'spec.target.alias', /sourceHost/],
    ["an AppBinding's caBundle", app({ host: 'db', caBundle: 'LS0t' }), 'spec.clientConfig.caBundle', /spec\.tls\.caSecretName/],
    ['insecureTLS', doc('Repository', { backend: { s3: { endpoint: 's3.amazonaws.com', bucket: 'b', insecureTLS: true }, storageSecretName: 's' } }), 'spec.backend.s3.insecureTLS', /CA_CERT_DATA/],
    ['a gcs backend', doc('Repository', { backend: { gcs: { bucket: 'b' }, storageSecretName: 's' } }), 'spec.backend.gcs', /^unknown field: this Stash backend is not supported/],
    // Any other unknown field: the closest known one, as before.
    ['a typo', config({ schedulle: '0 1 * * *' }), 'spec.schedulle', /^unknown field.*schedule/],
  ];
  for (const [name, d, field, want] of table) {
    it(name, () => {
      const e = validateResource(d).find((x) => x.field === field);
      assert.ok(e, JSON.stringify(validateResource(d)));
      assert.match(e.message, want);
    });
  }
});
