// One worker thread of the fleet benchmark's simulated agents (bench/fleet.bench.ts): each agent
// speaks the agent protocol over real HTTPS (common/agent-paths.ts, the paths the controller's
// routes are built from): register with the enrolment token, then long-poll for the next
// session, heartbeat and sync its binlog archives every heartbeat interval (as agent/agent.ts
// does), and run what it is given as a simulated backup: progress every progressMs, then the
// result. No MariaDB and no dump data: the "backup" writes only its snapshot record (with the
// tags a real one has) into the shared repository, so that the controller's check of the
// reported snapshot (controller/agents/result-check.ts) runs for real and passes.
import { subscribe } from 'node:diagnostics_channel';
import { connect as netConnect } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate } from 'node:timers/promises';
import { connect as tlsConnect, createSecureContext } from 'node:tls';
import { parentPort, workerData } from 'node:worker_threads';
import { Agent, request } from 'undici';
import type { buildConnector } from 'undici';
import { agentPaths } from '../../common/agent-paths.ts';
import type { AgentId, SessionRef } from '../../common/agent-paths.ts';
import { openBackend } from '../../common/backend/open-backend.ts';
import type { AgentRegistration, BackupAssignment, SessionAssignment, SessionResult } from '../../common/protocol.ts';
import { Repository } from '../../common/repository/repository.ts';
import { parseTargetRef, SESSION_UID_TAG, targetTags } from '../../common/repository/snapshot-selector.ts';
import { CallLog } from './call-log.ts';
import type { SessionRecord, WorkerInput, WorkerReport } from './worker-messages.ts';

const input = workerData as WorkerInput;
// Keep-alive as the real agent's client (Node's fetch, undici): as long as the server's
// `Keep-Alive: timeout=` hint less 2 s, at most 10 min (undici's defaults; 4 s without a hint).
/**
 * Each new connection, timed: `connectTcp` (TCP's handshake) and `connect` (TCP and TLS): a
 * connector as undici's own (buildConnector), without its session cache.
 */
/** One TLS context for the worker's agents (a context per connection costs the simulator ~1 ms of CPU each, a real agent once). */
const secureContext = input.ca === undefined ? undefined : createSecureContext({ ca: input.ca });
const timedConnector: buildConnector.connector = (options, callback) => {
  const started = performance.now();
  const tcp = netConnect({ host: options.hostname, port: Number(options.port) });
  tcp.setNoDelay(true);
  tcp.once('connect', () => log.add('connectTcp', performance.now() - started));
  // Plain HTTP (SIDESTASH_FLEET_TLS=front): the TCP handshake is the whole connect.
  const socket = secureContext === undefined ? tcp : tlsConnect({ socket: tcp, secureContext, rejectUnauthorized: true });
  let done = false;
  socket.once(secureContext === undefined ? 'connect' : 'secureConnect', () => {
    done = true;
    log.add('connect', performance.now() - started);
    callback(null, socket);
  });
  socket.once('error', (err) => {
    if (done) return;
    done = true;
    log.error('connect', (err as { code?: string }).code ?? err.name);
    callback(err, null);
  });
};
/**
 * One client per simulated agent, as each real agent is its own process with its own connection
 * pool (Node's fetch: undici's global Agent, a connection per call in flight, kept alive as the
 * server's `Keep-Alive: timeout=` hint less 2 s): shared, the agents would reuse each other's idle
 * connections and hold fewer than a real fleet does.
 */
const newClient = (): Agent => new Agent({ connect: timedConnector, connections: null, headersTimeout: 120_000, bodyTimeout: 120_000 });
const clients: Agent[] = [];

/** Who calls: the agent's token and its own client. */
interface Caller {
  token: string;
  client: Agent;
}
/** Replaced when the measured load starts (after the set-up's applies and registrations). */
let log = new CallLog();
const sessions: SessionRecord[] = [];
const stop = new AbortController();
/** Opened once per worker (its key's scrypt is not the controller's cost). */
const repo: Promise<Repository> = openBackend(input.repositoryLocation).then((b) => Repository.open(b, input.repositoryPassword));
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
// Where a call's time went: queued in the client until its headers were written (waiting for a
// connection, a new one's TCP and TLS handshake included: `queued`, `queuedNewConnection`), then
// written -> the response's headers (`answer`: the network and the controller).
const phases = new WeakMap<object, { createdMs: number; sentMs?: number; newConnection?: boolean }>();
const seenSockets = new WeakSet<object>();
subscribe('undici:request:create', (m) => phases.set((m as { request: object }).request, { createdMs: performance.now() }));
subscribe('undici:client:sendHeaders', (m) => {
  const { request, socket } = m as { request: object; socket: object };
  const p = phases.get(request);
  if (!p) return;
  p.sentMs = performance.now();
  p.newConnection = !seenSockets.has(socket);
  seenSockets.add(socket);
  log.add(p.newConnection ? 'queuedNewConnection' : 'queued', p.sentMs - p.createdMs);
});
subscribe('undici:request:headers', (m) => {
  const p = phases.get((m as { request: object }).request);
  if (p?.sentMs !== undefined) log.add('answer', performance.now() - p.sentMs);
});

interface Answer {
  status: number;
  body: unknown;
}

/** One call, logged under `kind` with its latency (less `heldMs` for a long-poll that ran its course). */
async function call(kind: string, method: 'GET' | 'POST', path: string, body: unknown, as: Caller, heldMs = 0): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await request(`${input.url}${path}`, {
      method,
      dispatcher: as.client,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${as.token}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: stop.signal,
    });
    const text = await res.body.text();
    const ms = performance.now() - started;
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (res.statusCode >= 400) {
      log.error(kind, `${res.statusCode} ${(parsed as { error?: { code?: string } } | undefined)?.error?.code ?? ''}`);
    } else {
      log.add(kind === 'poll' && res.statusCode === 200 ? 'pollAssign' : kind, res.statusCode === 204 ? Math.max(0, ms - heldMs) : ms);
    }
    return { status: res.statusCode, body: parsed };
  } catch (err) {
    if (!stop.signal.aborted) log.error(kind, (err as { code?: string }).code ?? (err as Error).name);
    return { status: 0, body: undefined };
  }
}

/**
 * As the agent's client sends what must arrive (agent/controller-client.ts): again on a network
 * error, a 5xx or a 429, with backoff; progress 3 times in all (500 ms base), results 12 (1 s).
 * Every attempt is logged; a session is lost only when the last one fails.
 */
async function callRetried(kind: string, path: string, body: unknown, as: Caller, attempts: number, baseDelayMs: number): Promise<Answer> {
  for (let attempt = 1; ; attempt++) {
    const a = await call(kind, 'POST', path, body, as);
    const retryable = a.status === 0 || a.status >= 500 || a.status === 429;
    if (!retryable || attempt >= attempts || stop.signal.aborted) return a;
    await sleep(Math.min(30_000, baseDelayMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
  }
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    if (stop.signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    stop.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

async function register(name: string, target: string, client: Agent): Promise<{ id: AgentId; token: string; heartbeatMs: number } | undefined> {
  for (let attempt = 0; attempt < 20 && !stop.signal.aborted; attempt++) {
    const a = await call('register', 'POST', agentPaths.register(), { name, namespace: input.namespace, targets: [target], version: 'fleet-bench' }, { token: input.enrolmentToken, client });
    if (a.status === 200) {
      const r = a.body as AgentRegistration;
      return { id: { namespace: r.namespace, name: r.name }, token: r.token, heartbeatMs: r.heartbeatIntervalMs };
    }
    await sleep(500 + Math.random() * 1000);
  }
  return undefined;
}

/** The simulated backup: progress every progressMs for durationMs, then its snapshot record and the result. */
async function runSession(id: AgentId, as: Caller, a: BackupAssignment): Promise<void> {
  const record: SessionRecord = { name: a.name, agent: id.name, claimedAtMs: Date.now(), progressReports: 0 };
  sessions.push(record);
  const ref: SessionRef = { kind: a.kind, namespace: a.namespace, name: a.name };
  const durationMs = input.sessionMs.min + Math.random() * (input.sessionMs.max - input.sessionMs.min);
  const totalBytes = 200 * 1024 * 1024;
  const started = Date.now();
  for (;;) {
    const left = started + durationMs - Date.now();
    if (left <= 0 || stop.signal.aborted) break;
    await sleep(Math.min(left, input.progressMs));
    const elapsed = Date.now() - started;
    if (elapsed >= durationMs) break;
    const done = Math.floor((totalBytes * elapsed) / durationMs);
    const p = await callRetried('progress', agentPaths.progress(id, ref), { bytesDumped: done, bytesStored: Math.floor(done / 3), rateBytesPerSecond: Math.floor(totalBytes / (durationMs / 1000)), estimatedTotalBytes: totalBytes, etaSeconds: Math.ceil((durationMs - elapsed) / 1000) }, as, 3, 500);
    record.progressReports++;
    if ((p.body as { cancel?: boolean } | undefined)?.cancel) break;
  }
  if (stop.signal.aborted) return;
  const t = parseTargetRef(a.target)!;
  const snapshotId = await (await repo).saveJson('snapshots', {
    time: new Date().toISOString(),
    tree: '0'.repeat(64),
    paths: [`/${a.filename}`],
    hostname: a.snapshotHost,
    username: 'sidestash',
    tags: [`invoker=${a.invoker}`, `session=${a.name}`, ...(a.sessionUid ? [`${SESSION_UID_TAG}${a.sessionUid}`] : []), ...targetTags(t)],
    program_version: 'sidestash fleet-bench',
  });
  const result: SessionResult = {
    phase: 'Succeeded',
    snapshotId,
    bytesRead: totalBytes,
    bytesStored: Math.floor(totalBytes / 3),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    processingSeconds: Math.round((Date.now() - started) / 1000),
    retention: { kept: 5, removed: 1, pruned: false },
    repositoryStats: { sizeBytes: 3 * totalBytes, snapshotCount: 5 },
    files: { new: 0, modified: 1, unmodified: 0 },
    ...(a.integrityCheck ? { integrity: { ok: true, checkedAt: new Date().toISOString(), errors: [] } } : {}),
  };
  const r = await callRetried('finish', agentPaths.result(id, ref), result, as, 12, 1000);
  record.finishedAtMs = Date.now();
  record.finishStatus = r.status;
}

async function runAgent(name: string, target: string, ready: () => void): Promise<void> {
  // Registrations are spread over the ramp, as a fleet's agents start at different times.
  await sleep(Math.random() * input.rampMs);
  const client = newClient();
  clients.push(client);
  const reg = await register(name, target, client);
  await setImmediate();
  if (!reg) {
    ready();
    return;
  }
  const { id, heartbeatMs } = reg;
  const as: Caller = { token: reg.token, client };
  // Heartbeat and binlog archive sync every heartbeat interval, the first at once with the first
  // long poll (agent/agent.ts): the agent is ready once both have their connection. It used to
  // wait a random part of the interval first, so that most agents' first sync opened their
  // second connection inside the measured load (730 of the 1,000-agent run's new connections).
  let first = true;
  const beat = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      // One after the other, as the agent sends them (agent/agent.ts): one kept connection serves both.
      // With a turn of the event loop between them (agent/serial-beat.ts): the client has the
      // connection back in its pool only then, and a call made at once would open another.
      await call('binlogSync', 'POST', agentPaths.binlogArchives(id), { reports: [] }, as);
      await setImmediate();
      await call('heartbeat', 'POST', agentPaths.heartbeat(id), {}, as);
      if (first) {
        first = false;
        await setImmediate();
        ready();
      }
      await sleep(heartbeatMs);
    }
  };
  void beat();
  while (!stop.signal.aborted) {
    // As the agent (agent/agent.ts): the last call's connection back in the pool before the poll.
    await setImmediate();
    const a = await call('poll', 'GET', agentPaths.next(id, input.pollWaitMs), undefined, as, input.pollWaitMs);
    if (a.status === 200) {
      const s = a.body as SessionAssignment;
      if (s.kind === 'BackupSession') await runSession(id, as, s);
    } else if (a.status !== 204) {
      await sleep(1000);
    }
  }
}

async function main(): Promise<void> {
  await repo;
  let registered = 0;
  const runs = input.agents.map((a) =>
    runAgent(a.name, a.target, () => {
      registered++;
      if (registered === input.agents.length) parentPort!.postMessage({ type: 'registered' });
    }),
  );
  parentPort!.on('message', (m: { type: string }) => {
    if (m.type === 'stop') stop.abort();
    if (m.type === 'measure') {
      const setUp = log.export();
      log = new CallLog();
      for (const ms of setUp.latencyMs.register ?? []) log.add('register', ms);
      loopDelay.reset();
    }
  });
  await Promise.all(runs);
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  const report: WorkerReport = { type: 'report', calls: log.export(), sessions, loopDelayMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 } };
  parentPort!.postMessage(report);
}

void main();
