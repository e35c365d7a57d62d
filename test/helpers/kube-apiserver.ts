// A real Kubernetes control plane for the Kubernetes-mode tests: etcd and kube-apiserver (and,
// when asked, kube-controller-manager) built by scripts/kube-build.sh into .tools/kube/bin, on
// loopback, on free ports, one per test file. No kubelet, scheduler or nodes: objects go through
// admission (webhooks, CRD schemas, RBAC) and are stored; pods never become Ready.
// Service addresses come from a loopback range (127.10.N.0/24, N random per server), so that a
// test can serve a webhook on a Service's cluster IP; never a private range.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// undici's fetch: it honours `dispatcher` (the API server's CA) on Node and on Deno; Deno's own fetch does not.
import { Agent, fetch as undiciFetch } from 'undici';
import { freePort } from './mariadb.ts';
import { tempDir } from './tmp.ts';

export const KUBE_BIN = fileURLToPath(new URL('../../.tools/kube/bin/', import.meta.url));

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubeApiServer {
  /** https://127.0.0.1:PORT */
  url: string;
  /** A system:masters bearer token. */
  token: string;
  /** The API server's CA certificate (PEM) and its file. */
  caCert: string;
  caFile: string;
  /** A kubeconfig for the admin (for kubectl, helm and processes under test). */
  kubeconfig: string;
  /** The Service address range, e.g. 127.10.37.0/24. */
  serviceCidr: string;
  /** The service-account signing key pair (PEM files), for tests that mint tokens. */
  serviceAccountKeyFile: string;
  /** etcd's client URL (http://127.0.0.1:PORT), e.g. for a test that compacts its history. */
  etcdUrl: string;
  dir: string;
  /** Runs the built kubectl against this server. */
  kubectl(args: string[], options?: { input?: string }): Promise<KubectlResult>;
  /** Runs kubectl and throws with its stderr unless it exits 0; returns stdout. */
  kubectlOk(args: string[], options?: { input?: string }): Promise<string>;
  /** Kills kube-apiserver (SIGKILL) and starts it again on the same port and etcd: every connection to it drops. */
  restartApiServer(): Promise<void>;
  /** A request to the API server as the admin; JSON in and out. */
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export interface KubeApiServerOptions {
  /** Also run kube-controller-manager (Deployments get Pods, namespaces get their default ServiceAccount). */
  withControllerManager?: boolean;
  /** More kube-apiserver flags, e.g. ['--watch-cache-sizes=configmaps#0'] for watches served by etcd. */
  apiServerArgs?: string[];
}

const run = (file: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<KubectlResult> =>
  new Promise((resolve) => {
    const child = execFile(file, args, { maxBuffer: 64 * 1024 * 1024, env: options.env ?? process.env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
  });

async function openssl(args: string[]): Promise<void> {
  const r = await run('openssl', args);
  if (r.code !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

async function makePki(pki: string): Promise<void> {
  const f = (n: string) => join(pki, n);
  await mkdir(pki, { recursive: true });
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=sidestash-test-kube-ca', '-keyout', f('ca.key'), '-out', f('ca.crt')]);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=kube-apiserver', '-keyout', f('apiserver.key'), '-out', f('apiserver.csr')]);
  await writeFile(f('apiserver.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n');
  await openssl(['x509', '-req', '-in', f('apiserver.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('apiserver.ext'), '-out', f('apiserver.crt')]);
  await openssl(['genrsa', '-out', f('sa.key'), '2048']);
  await openssl(['rsa', '-in', f('sa.key'), '-pubout', '-out', f('sa.pub')]);
}

interface Started {
  child: ChildProcess;
  exited: Promise<void>;
  hasExited(): boolean;
}

function startProcess(bin: string, args: string[], logFile: string): Started {
  const child = spawn(join(KUBE_BIN, bin), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => chunks.push(c));
  child.stderr!.on('data', (c: Buffer) => chunks.push(c));
  let done = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    done = true;
    void writeFile(logFile, Buffer.concat(chunks)).catch(() => {}).finally(resolve);
  }));
  child.once('error', () => (done = true));
  // The log is also written while it runs, for a failing test to read.
  const flush = setInterval(() => void writeFile(logFile, Buffer.concat(chunks)).catch(() => {}), 2000);
  flush.unref();
  void exited.then(() => clearInterval(flush));
  return { child, exited, hasExited: () => done };
}

async function waitFor(what: string, proc: Started, check: () => Promise<boolean>, logFile: string, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (proc.hasExited()) return false;
    if (Date.now() > deadline) {
      proc.child.kill('SIGKILL');
      throw new Error(`${what} did not become ready within ${timeoutMs / 1000} s; its log: ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stopProcess(p: Started | undefined): Promise<void> {
  if (!p || p.hasExited()) return;
  p.child.kill('SIGTERM');
  // process.kill, not child.kill: Deno's ChildProcess.kill sends nothing after a first kill.
  const timer = setTimeout(() => {
    try {
      if (!p.hasExited()) process.kill(p.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 10_000);
  await p.exited;
  clearTimeout(timer);
}

export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  if (!existsSync(join(KUBE_BIN, 'kube-apiserver'))) throw new Error(`no Kubernetes binaries in ${KUBE_BIN}: run scripts/kube-build.sh (npm run setup does)`);
  const tmp = await tempDir('sidestash-kube-');
  const dir = tmp.path;
  const pki = join(dir, 'pki');
  await makePki(pki);
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('hex');
  await writeFile(join(pki, 'tokens.csv'), `${token},admin,admin,system:masters\n`);
  const caFile = join(pki, 'ca.crt');
  const caCert = await readFile(caFile, 'utf8');
  const dispatcher = new Agent({ connect: { ca: caCert } });
  const serviceCidr = `127.10.${1 + Math.floor(Math.random() * 250)}.0/24`;

  let etcd: Started | undefined;
  let apiserver: Started | undefined;
  let kcm: Started | undefined;
  const stopAll = async () => {
    await stopProcess(kcm);
    await stopProcess(apiserver);
    await stopProcess(etcd);
  };
  try {
    // etcd: a port pair that another test may take between picking and binding: then again.
    let etcdPort = 0;
    for (let attempt = 1; ; attempt++) {
      etcdPort = await freePort();
      const peerPort = await freePort();
      const client = `http://127.0.0.1:${etcdPort}`;
      const peer = `http://127.0.0.1:${peerPort}`;
      etcd = startProcess('etcd', ['--name', 'test', '--data-dir', join(dir, `etcd-${attempt}`), '--listen-client-urls', client, '--advertise-client-urls', client,
        '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `test=${peer}`, '--unsafe-no-fsync', '--log-level', 'warn'], join(dir, 'etcd.log'));
      if (await waitFor('etcd', etcd, async () => (await fetch(`${client}/health`)).ok, join(dir, 'etcd.log'))) break;
      if (attempt >= 5) throw new Error(`etcd did not start; its log: ${join(dir, 'etcd.log')}`);
    }
    let url = '';
    let apiPort = 0;
    const launchApiServer = (port: number): Started => startProcess('kube-apiserver', [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${port}`,
      `--tls-cert-file=${join(pki, 'apiserver.crt')}`, `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
      `--client-ca-file=${caFile}`, `--token-auth-file=${join(pki, 'tokens.csv')}`, '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local', `--service-account-key-file=${join(pki, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(pki, 'sa.key')}`, `--service-cluster-ip-range=${serviceCidr}`, '--allow-privileged=true',
      '--endpoint-reconciler-type=none', `--cert-dir=${join(pki, 'generated')}`, '--v=1', ...(options.apiServerArgs ?? []),
    ], join(dir, 'kube-apiserver.log'));
    const apiServerReady = async () => (await (await undiciFetch(`${url}/readyz`, { headers: { authorization: `Bearer ${token}` }, dispatcher })).text()) === 'ok';
    for (let attempt = 1; ; attempt++) {
      apiPort = await freePort();
      url = `https://127.0.0.1:${apiPort}`;
      apiserver = launchApiServer(apiPort);
      if (await waitFor('kube-apiserver', apiserver, apiServerReady, join(dir, 'kube-apiserver.log'), 120_000)) break;
      if (attempt >= 5) throw new Error(`kube-apiserver did not start; its log: ${join(dir, 'kube-apiserver.log')}`);
    }
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'clusters:', '- name: test', '  cluster:', `    server: ${url}`, `    certificate-authority-data: ${Buffer.from(caCert).toString('base64')}`,
      'users:', '- name: admin', '  user:', `    token: ${token}`, 'contexts:', '- name: test', '  context: {cluster: test, user: admin, namespace: default}', 'current-context: test', '',
    ].join('\n'), { mode: 0o600 });
    const kubectl = (args: string[], o: { input?: string } = {}) => run(join(KUBE_BIN, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], o);
    if (options.withControllerManager) {
      kcm = startProcess('kube-controller-manager', [`--kubeconfig=${kubeconfig}`, `--service-account-private-key-file=${join(pki, 'sa.key')}`, `--root-ca-file=${caFile}`,
        '--use-service-account-credentials=true', '--leader-elect=false', '--bind-address=127.0.0.1', '--secure-port=0', '--v=1'], join(dir, 'kube-controller-manager.log'));
      if (!(await waitFor('kube-controller-manager', kcm, async () => (await kubectl(['-n', 'default', 'get', 'serviceaccount', 'default'])).code === 0, join(dir, 'kube-controller-manager.log')))) {
        throw new Error(`kube-controller-manager exited; its log: ${join(dir, 'kube-controller-manager.log')}`);
      }
    }
    return {
      url, token, caCert, caFile, kubeconfig, serviceCidr, dir, serviceAccountKeyFile: join(pki, 'sa.key'), etcdUrl: `http://127.0.0.1:${etcdPort}`,
      kubectl,
      async kubectlOk(args, o) {
        const r = await kubectl(args, o);
        if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
        return r.stdout;
      },
      async request(method, path, body) {
        const res = await undiciFetch(`${url}${path}`, {
          method, dispatcher,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        const text = await res.text();
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON */ }
        return { status: res.status, body: parsed };
      },
      async restartApiServer() {
        // As a crash: SIGKILL (a SIGTERM'd kube-apiserver drains open requests for up to a minute).
        if (apiserver && !apiserver.hasExited()) process.kill(apiserver.child.pid!, 'SIGKILL');
        await apiserver?.exited;
        apiserver = launchApiServer(apiPort);
        if (!(await waitFor('kube-apiserver', apiserver, apiServerReady, join(dir, 'kube-apiserver.log'), 120_000))) {
          throw new Error(`kube-apiserver did not start again on port ${apiPort}; its log: ${join(dir, 'kube-apiserver.log')}`);
        }
      },
      async stop() {
        await stopAll();
        await dispatcher.close();
        await tmp.cleanup();
      },
    };
  } catch (err) {
    await stopAll();
    await dispatcher.close();
    throw err;
  }
}
