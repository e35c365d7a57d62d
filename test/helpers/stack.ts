// Runs the real controller and agent as child processes (node bin/sidestash.ts ...), logging
// to files in a directory, for end-to-end tests and the demo.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { api } from '../../cli/api-client.ts';
import { isFinalPhase } from '../../common/protocol.ts';
import type { ApiClientOptions } from '../../cli/api-client.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'sidestash.ts');

export interface Proc {
  child: ChildProcess;
  logFile: string;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait (a crash). */
  kill(): Promise<void>;
}

function startProc(args: string[], env: Record<string, string>, logFile: string): Proc {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const end = async (sig: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  return { child, logFile, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
}

export interface ControllerProc extends Proc {
  api: ApiClientOptions;
  url: string;
  /** SIDESTASH_AGENT_BOOTSTRAP_TOKEN: an enrolment token scoped to namespace "default". */
  bootstrapToken: string;
  /** The CA file agents and the CLI trust (HTTPS, the default); absent with SIDESTASH_INSECURE_HTTP=true. */
  caFile?: string;
  /** SIDESTASH_URL, SIDESTASH_ADMIN_TOKEN and SIDESTASH_CA_FILE (or SIDESTASH_INSECURE_HTTP) for runCli. */
  cliEnv: Record<string, string>;
}

/**
 * Starts the controller over HTTPS with the CA it generates in `dir` (api-ca.crt), or with
 * options.env's SIDESTASH_TLS_CERT_FILE/KEY_FILE (then options.caFile is their CA), or over
 * plain HTTP when options.env has SIDESTASH_INSECURE_HTTP=true.
 */
export async function startController(dir: string, options: { port?: number; env?: Record<string, string>; caFile?: string } = {}): Promise<ControllerProc> {
  const adminToken = 'test-admin-token-0123456789';
  const bootstrapToken = 'test-agent-bootstrap-0123456789';
  const logFile = join(dir, 'controller.log');
  const insecure = options.env?.SIDESTASH_INSECURE_HTTP === 'true';
  const caFile = insecure ? undefined : (options.caFile ?? join(dir, 'api-ca.crt'));
  // Port 0 by default: the kernel picks a free port and the controller logs it (no check-then-use
  // race with concurrent test files). A given port (a restart on the same URL) is retried while
  // it is still in use, e.g. by a killed controller's socket not yet closed.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const logStart = logSize(logFile);
    const p = startProc(
      ['controller'],
      // Kubernetes mode (env SIDESTASH_STORE=kubernetes, SIDESTASH_KUBECONFIG): agents use ServiceAccount tokens, no bootstrap token.
      { SIDESTASH_LISTEN: `127.0.0.1:${options.port ?? 0}`, SIDESTASH_DB: join(dir, 'controller.db'), SIDESTASH_ADMIN_TOKEN: adminToken, ...(options.env?.SIDESTASH_STORE === 'kubernetes' ? {} : { SIDESTASH_AGENT_BOOTSTRAP_TOKEN: bootstrapToken }), SIDESTASH_SWEEP_INTERVAL: '1s', ...options.env },
      logFile,
    );
    const port = await listeningPort(p, logFile, logStart, deadline);
    if (port === 'in use') {
      // With port 0 the API cannot collide: another listener's port (e.g. the webhook's) is taken.
      if (options.port === undefined) throw new Error(`controller could not listen: an address is in use; see ${logFile}`);
      if (Date.now() > deadline) throw new Error(`controller could not listen on port ${options.port} within 20 s; see ${logFile}`);
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    const url = `${insecure ? 'http' : 'https'}://127.0.0.1:${port}`;
    const o: ApiClientOptions = { url, token: adminToken };
    for (;;) {
      try {
        if (caFile) o.ca = readFileSync(caFile, 'utf8');
        await api(o, 'GET', '/healthz');
        break;
      } catch {
        // not up yet
      }
      if (p.child.exitCode !== null || Date.now() > deadline) throw new Error(`controller did not start; see ${p.logFile}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const cliEnv: Record<string, string> = { SIDESTASH_URL: url, SIDESTASH_ADMIN_TOKEN: adminToken, ...(caFile ? { SIDESTASH_CA_FILE: caFile } : { SIDESTASH_INSECURE_HTTP: 'true' }) };
    return { ...p, url, api: o, bootstrapToken, ...(caFile ? { caFile } : {}), cliEnv };
  }
}

function logSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * The port from the controller's "controller listening" log line written after `from`, or
 * 'in use' when it exited because the address is taken; throws on any other exit.
 */
async function listeningPort(p: Proc, logFile: string, from: number, deadline: number): Promise<number | 'in use'> {
  for (;;) {
    const text = readFileSync(logFile).subarray(from).toString('utf8');
    for (const line of text.split('\n')) {
      if (!line.includes('"controller listening"')) continue;
      const port = (JSON.parse(line) as { port?: unknown }).port;
      if (typeof port === 'number') return port;
    }
    if (p.child.exitCode !== null || p.child.signalCode !== null) {
      if (text.includes('EADDRINUSE') || text.includes('already in use')) return 'in use';
      throw new Error(`controller exited during start-up; see ${logFile}: ${text.slice(-2000)}`);
    }
    if (Date.now() > deadline) throw new Error(`controller did not start within 20 s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts an agent named agent-0 in the namespace of its targets ("default" for the edge set-up),
 * enrolled with the controller's bootstrap token (scoped to namespace "default"); pass
 * SIDESTASH_AGENT_BOOTSTRAP_TOKEN in `env` for a token of another namespace.
 */
let agentCount = 0;

export function startAgent(dir: string, controller: ControllerProc, targets: string[], env: Record<string, string> = {}): Proc {
  const tls: Record<string, string> = controller.caFile ? { SIDESTASH_CONTROLLER_CA_FILE: controller.caFile } : { SIDESTASH_INSECURE_HTTP: 'true' };
  const namespace = targets[0]?.split('/')[0] ?? 'default';
  // Its own temporary directory: agents of concurrent test files share a name, and each removes
  // its name's leftover option files when it starts.
  const tmpDir = join(dir, `agent-tmp-${++agentCount}`);
  mkdirSync(tmpDir, { recursive: true });
  return startProc(
    ['agent'],
    { SIDESTASH_CONTROLLER_URL: controller.url, ...(env.SIDESTASH_AGENT_TOKEN_FILE ? {} : { SIDESTASH_AGENT_BOOTSTRAP_TOKEN: controller.bootstrapToken }), SIDESTASH_AGENT_NAME: 'agent-0', SIDESTASH_AGENT_NAMESPACE: namespace, SIDESTASH_AGENT_TARGETS: targets.join(','), SIDESTASH_PROGRESS_INTERVAL: '500ms', SIDESTASH_TMPDIR: tmpDir, ...tls, ...env },
    join(dir, 'agent.log'),
  );
}

export interface SessionView {
  metadata: { name: string };
  spec: Record<string, unknown>;
  status?: { phase?: string; snapshotId?: string; error?: { code: string; message: string }; progress?: Record<string, number>; bytesRead?: number };
}

/** Polls the sessions of one kind until `check` returns a value, or fails after `timeoutMs`. */
async function pollSessions<T>(o: ApiClientOptions, plural: 'backupsessions' | 'restoresessions', timeoutMs: number, what: string, check: (items: SessionView[]) => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { items } = await api<{ items: SessionView[] }>(o, 'GET', `/api/v1/${plural}`);
    const result = check(items);
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms: ${JSON.stringify(items.map((s) => [s.metadata.name, s.status?.phase]))}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const finished = (s: SessionView): boolean => isFinalPhase(s.status?.phase);

/** Polls until a session of `plural` matching `pick` has finished; returns it. */
export function waitForFinished(o: ApiClientOptions, plural: 'backupsessions' | 'restoresessions', pick: (s: SessionView) => boolean, timeoutMs: number): Promise<SessionView> {
  return pollSessions(o, plural, timeoutMs, `no finished ${plural}`, (items) => items.find((s) => pick(s) && finished(s)));
}

/** Waits until no session of that kind is Pending or Running (e.g. after pausing a schedule). */
export async function waitForIdle(o: ApiClientOptions, plural: 'backupsessions' | 'restoresessions', timeoutMs: number): Promise<void> {
  await pollSessions(o, plural, timeoutMs, `${plural} still busy`, (items) => (items.every(finished) ? true : undefined));
}

export function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
