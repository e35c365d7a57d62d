import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import { inClusterConnection, loadKubeConnection, parseKubeconfig } from './kube-config.ts';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const files: Record<string, string> = {
  '/etc/k/ca.crt': CA,
  '/etc/k/client.crt': '-----BEGIN CERTIFICATE-----\nC\n-----END CERTIFICATE-----\n',
  '/etc/k/client.key': '-----BEGIN PRIVATE KEY-----\nK\n-----END PRIVATE KEY-----\n',
  '/sa/ca.crt': CA,
  '/sa/token': 'sa-token\n',
  '/sa/namespace': 'backup-system\n',
  '/home/u/kubeconfig': 'apiVersion: v1\nclusters:\n- name: c\n  cluster: {server: "https://h:6443"}\ncontexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n',
};
const readFile = (p: string): string => {
  if (p in files) return files[p]!;
  throw new Error(`ENOENT: ${p}`);
};

const kubeconfig = (cluster: string, user: string, extra = ''): string =>
  `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: ${cluster}\nusers:\n- name: u\n  user: ${user}\ncontexts:\n- name: ctx\n  context: {cluster: c, user: u, namespace: ops}\n- name: other\n  context: {cluster: c, user: u}\ncurrent-context: ctx\n${extra}`;

test('kubeconfig: what each supported form of cluster and user gives', () => {
  const table: { name: string; cluster: string; user: string; contextName?: string; expect: Record<string, unknown> }[] = [
    { name: 'token, CA inline', cluster: `{server: "https://127.0.0.1:6443/", certificate-authority-data: ${b64(CA)}}`, user: '{token: abc}', expect: { server: 'https://127.0.0.1:6443', caPem: CA, credentials: { kind: 'token', token: 'abc' }, namespace: 'ops' } },
    { name: 'CA file relative to the kubeconfig', cluster: '{server: "https://h:6443", certificate-authority: ca.crt}', user: '{tokenFile: /var/t}', expect: { caPem: CA, credentials: { kind: 'token-file', file: '/var/t' } } },
    { name: 'client certificate files', cluster: '{server: "https://h:6443"}', user: '{client-certificate: client.crt, client-key: /etc/k/client.key}', expect: { credentials: { kind: 'client-certificate', certPem: files['/etc/k/client.crt'], keyPem: files['/etc/k/client.key'] } } },
    { name: 'insecure and a TLS server name', cluster: '{server: "https://h:6443", insecure-skip-tls-verify: true, tls-server-name: kubernetes}', user: '{}', expect: { insecureSkipTlsVerify: true, tlsServerName: 'kubernetes', credentials: { kind: 'none' } } },
    { name: 'another context: namespace default', cluster: '{server: "https://h:6443"}', user: '{token: t}', contextName: 'other', expect: { namespace: 'default' } },
  ];
  for (const row of table) {
    const conn = parseKubeconfig(kubeconfig(row.cluster, row.user), '/etc/k', 'test', { readFile, ...(row.contextName ? { contextName: row.contextName } : {}) });
    for (const [k, v] of Object.entries(row.expect)) assert.deepEqual((conn as unknown as Record<string, unknown>)[k], v, `${row.name}: ${k}`);
  }
});

test('kubeconfig: every problem is reported at once, each with its field path', () => {
  const table: { name: string; text: string; problems: RegExp[] }[] = [
    { name: 'exec plugin and bad server', text: kubeconfig('{server: "h:6443"}', '{exec: {command: aws}}'), problems: [/^clusters\[0\]\.cluster\.server: "h:6443" is not a URL/, /^users\[0\]\.user\.exec: exec credential plugins are not supported/] },
    { name: 'unreadable CA, cert without key', text: kubeconfig('{server: "https://h", certificate-authority: /nope.crt}', '{client-certificate: client.crt}'), problems: [/^clusters\[0\]\.cluster\.certificate-authority: cannot read \/nope\.crt/, /^users\[0\]\.user: client-certificate and client-key go together/] },
    { name: 'CA data that is no PEM, basic auth', text: kubeconfig(`{server: "https://h", certificate-authority-data: ${b64('junk')}}`, '{username: a, password: b}'), problems: [/certificate-authority-data: not base64 of a PEM/, /^users\[0\]\.user\.username: basic authentication is not supported/] },
    { name: 'no current context', text: 'apiVersion: v1\nclusters: []\n', problems: [/^current-context: required/] },
    { name: 'a context naming a missing cluster', text: 'contexts:\n- name: a\n  context: {cluster: gone}\ncurrent-context: a\n', problems: [/^clusters: no cluster named "gone"/] },
  ];
  for (const row of table) {
    let caught: unknown;
    try {
      parseKubeconfig(row.text, '/etc/k', 'test', { readFile });
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof SidestashError && caught.code === ErrorCodes.INVALID_CONFIG, `${row.name}: ${String(caught)}`);
    const problems = caught.details.problems as string[];
    assert.equal(problems.length, row.problems.length, `${row.name}: ${JSON.stringify(problems)}`);
    row.problems.forEach((re, i) => assert.match(problems[i]!, re, row.name));
  }
  assert.throws(() => parseKubeconfig('[1, 2]', '/', 'test'), (e: unknown) => e instanceof SidestashError && e.code === ErrorCodes.INVALID_CONFIG);
});

test('in-cluster: the token file (re-read by the client), the CA and the pod namespace', () => {
  const conn = inClusterConnection({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, { dir: '/sa', readFile });
  assert.deepEqual(conn, { server: 'https://10.96.0.1:443', caPem: CA, insecureSkipTlsVerify: false, credentials: { kind: 'token-file', file: '/sa/token' }, namespace: 'backup-system', source: 'in-cluster' });
  assert.equal(inClusterConnection({ KUBERNETES_SERVICE_HOST: 'fd00::1' }, { dir: '/sa', readFile }).server, 'https://[fd00::1]:443');
  assert.throws(() => inClusterConnection({ KUBERNETES_SERVICE_PORT: 'x' }, { dir: '/nowhere', readFile }), (e: unknown) => {
    const problems = (e as SidestashError).details.problems as string[];
    return problems.length === 4 && /KUBERNETES_SERVICE_HOST/.test(problems[0]!) && /KUBERNETES_SERVICE_PORT/.test(problems[1]!) && /ca\.crt/.test(problems[2]!) && /token/.test(problems[3]!);
  });
});

test('which configuration: SIDESTASH_KUBECONFIG, then the first of KUBECONFIG, then in-cluster', () => {
  const byEnv = (env: Record<string, string>) => loadKubeConnection(env, { readFile, serviceAccountDir: '/sa' });
  assert.equal(byEnv({ SIDESTASH_KUBECONFIG: '/home/u/kubeconfig', KUBECONFIG: '/nope', KUBERNETES_SERVICE_HOST: '10.0.0.1' }).source, '/home/u/kubeconfig');
  assert.equal(byEnv({ KUBECONFIG: ':/home/u/kubeconfig:/other', KUBERNETES_SERVICE_HOST: '10.0.0.1' }).server, 'https://h:6443');
  assert.equal(byEnv({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }).source, 'in-cluster');
  assert.throws(() => byEnv({ SIDESTASH_KUBECONFIG: '/missing' }), /SIDESTASH_KUBECONFIG: cannot read \/missing/);
  assert.throws(() => byEnv({ SIDESTASH_KUBECONFIG: '/home/u/kubeconfig', SIDESTASH_KUBE_CONTEXT: 'nope' }), /no context named "nope"/);
});
