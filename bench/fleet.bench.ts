// Fleet scale (issue 15): one real controller (sqlite mode, HTTPS, as test/helpers/stack.ts
// starts it) against simulated agents speaking the agent protocol over real HTTPS from worker
// threads (bench/fleet/agent-worker.ts), so that the simulator's CPU is not the controller's
// event loop. Every agent has one target whose BackupConfiguration fires at the same cron
// minute; the controller's schedule jitter spreads the starts; each simulated backup reports
// progress every 5 s and finishes; an admin client lists sessions and configurations meanwhile.
//
//   npm run bench:fleet                                  2,000 agents
//   SIDESTASH_FLEET_AGENTS=500,1000,2000,4000 npm run bench:fleet    the knee: one run per count
//
// Other settings: SIDESTASH_FLEET_ADMIN_PAGE (the admin client's ?limit=, 250), SIDESTASH_FLEET_WORKERS (2), SIDESTASH_FLEET_RUNNING (sessions running at
// once the jitter is sized for, 200), SIDESTASH_FLEET_SESSION_SECONDS (15), SIDESTASH_FLEET_PROFILE
// (1: --cpu-prof on the controller and its hottest functions; default on with several counts).
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { api } from '../cli/api-client.ts';
import { listAll } from '../cli/list-pages.ts';
import { openBackend } from '../common/backend/open-backend.ts';
import { Repository } from '../common/repository/repository.ts';
import { startController } from '../test/helpers/stack.ts';
import { AGENT_IMAGE_ENV } from './agent-session.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { CallLog, mergeCallLogs } from './fleet/call-log.ts';
import type { CallLogData } from './fleet/call-log.ts';
import { cpuSeconds, hotFunctions, memoryMiB, openSockets, resetPeakRss, rssByMapping } from './fleet/controller-stats.ts';
import type { HotFunction } from './fleet/controller-stats.ts';
import { Agent } from 'undici';
import { busySecondsOf, loopDelayOf, scrapeMetrics, serverSideWithin100Ms } from './fleet/controller-metrics.ts';
import { fleetOutcome } from './fleet/fleet-outcome.ts';
import type { ListedSession } from './fleet/fleet-outcome.ts';
import { FLEET_NAMESPACE, applyFleet, fleetTargets, scheduleAll } from './fleet/fleet-setup.ts';
import { maxConcurrent, spreadOf, summarizeLatency } from './fleet/latency-stats.ts';
import type { LatencySummary } from './fleet/latency-stats.ts';
import type { SessionRecord, WorkerInput, WorkerReport } from './fleet/worker-messages.ts';

const ROOT = join(import.meta.dirname, '..');
const env = process.env;
const counts = (env.SIDESTASH_FLEET_AGENTS ?? '2000').split(',').map((s) => Number(s.trim()));
if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`SIDESTASH_FLEET_AGENTS: ${env.SIDESTASH_FLEET_AGENTS} is not a list of agent counts`);
const WORKERS = Number(env.SIDESTASH_FLEET_WORKERS ?? 2);
const RUNNING = Number(env.SIDESTASH_FLEET_RUNNING ?? 200);
const SESSION_MS = Number(env.SIDESTASH_FLEET_SESSION_SECONDS ?? 15) * 1000;
const PROFILE = (env.SIDESTASH_FLEET_PROFILE ?? (counts.length > 1 ? '1' : '0')) === '1';
const PROGRESS_MS = 5_000;
/** As the agent's (agent/agent.ts POLL_WAIT_MS). */
const POLL_WAIT_MS = 20_000;
const TARGET_P99_MS = 100;
const TARGET_RSS_MIB = 256;
/** The admin client's page size (?limit=): SIDESTASH_FLEET_ADMIN_PAGE, 250. */
const ADMIN_PAGE = Number(env.SIDESTASH_FLEET_ADMIN_PAGE ?? 250);
/** The chart's NODE_OPTIONS for the controller at its default 256Mi limit (charts/sidestash/templates/deployment.yaml). */
const CONTROLLER_NODE_OPTIONS = '--max-semi-space-size=16 --max-old-space-size=128';
const AGENT_KINDS = ['poll', 'pollAssign', 'progress', 'finish', 'heartbeat', 'binlogSync'];
const ADMIN_KINDS = ['adminListSessions', 'adminListConfigurations'];
/**
 * SIDESTASH_FLEET_TLS: `controller` (default) has the controller terminate the agents' TLS, as
 * the chart deploys it; `front` has it serve plain HTTP (SIDESTASH_INSECURE_HTTP=true) as behind
 * a TLS-terminating ingress, load balancer or mesh sidecar, which then holds the agents' TLS
 * connections and their memory: the controller's own cost without TLS.
 */
const TLS_MODE = env.SIDESTASH_FLEET_TLS ?? 'controller';
if (TLS_MODE !== 'controller' && TLS_MODE !== 'front') throw new Error(`SIDESTASH_FLEET_TLS: ${TLS_MODE} is neither controller nor front`);

interface RunResult {
  agents: number;
  kinds: Record<string, LatencySummary>;
  p99AgentMs: number;
  p99AdminMs: number;
  controllerRssMiB: number;
  controllerCpuPercent: number;
  /** Controller CPU seconds per agent and minute of the load: less sensitive to neighbours than latency. */
  cpuSecondsPerAgentMinute: number;
  /** Share of the load's wall time the controller's event loop was busy (0..1). */
  eventLoopUtilization: number;
  lostSessions: number;
  doubledSessions: number;
  hot?: { self: HotFunction[]; total: HotFunction[] };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A call to a controller that may be too busy to answer at once: tried up to 5 times. */
async function retried<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 5) throw err;
      console.log(`(${(err as Error).message}; again)`);
      await sleep(2000);
    }
  }
}
const fmt = (ms: number): string => (Number.isNaN(ms) ? '-' : ms < 10 ? ms.toFixed(1) : ms.toFixed(0));

async function runFleet(agents: number): Promise<RunResult> {
  const tmp = await tempDir('sidestash-fleet-');
  const profileDir = join(tmp.path, 'profile');
  mkdirSync(profileDir);
  // Sized so that about RUNNING sessions run at once: N starts spread evenly over the jitter.
  const jitterS = Math.max(10, Math.min(300, Math.round((agents * SESSION_MS) / RUNNING / 1000)));
  const controller = await startController(tmp.path, {
    env: {
      SIDESTASH_SWEEP_INTERVAL: '5s',
      ...(TLS_MODE === 'front' ? { SIDESTASH_INSECURE_HTTP: 'true' } : {}),
      SIDESTASH_SCHEDULE_JITTER: `${jitterS}s`,
      // SIDESTASH_MAX_CONNECTIONS and SIDESTASH_KEEP_ALIVE_TIMEOUT: the defaults, which fit the fleet.
      ...(env.SIDESTASH_KEEP_ALIVE_TIMEOUT ? { SIDESTASH_KEEP_ALIVE_TIMEOUT: env.SIDESTASH_KEEP_ALIVE_TIMEOUT } : {}),
      // The image's malloc settings (the Dockerfile's ENV line), as the controller runs in it, and
      // the young generation the chart gives the controller (its deployment.yaml's NODE_OPTIONS).
      ...AGENT_IMAGE_ENV,
      // SIDESTASH_FLEET_MALLOC: another allocator for the controller only (LD_PRELOAD, e.g.
      // /usr/lib/x86_64-linux-gnu/libjemalloc.so.2) and SIDESTASH_FLEET_MALLOC_CONF its settings.
      ...(env.SIDESTASH_FLEET_MALLOC ? { LD_PRELOAD: env.SIDESTASH_FLEET_MALLOC } : {}),
      ...(env.SIDESTASH_FLEET_MALLOC_CONF ? { MALLOC_CONF: env.SIDESTASH_FLEET_MALLOC_CONF } : {}),
      // SIDESTASH_FLEET_NODE_OPTIONS: more V8 flags for the controller (e.g. --max-old-space-size=160).
      NODE_OPTIONS: `${CONTROLLER_NODE_OPTIONS}${env.SIDESTASH_FLEET_NODE_OPTIONS ? ` ${env.SIDESTASH_FLEET_NODE_OPTIONS}` : ''}${PROFILE ? ` --cpu-prof --cpu-prof-dir=${profileDir}` : ''}`,
    },
  });
  const pid = controller.child.pid!;
  try {
    const repoPath = join(tmp.path, 'repo');
    const repoPassword = 'fleet-bench-repository-password';
    await Repository.init(await openBackend(`local:${repoPath}`), repoPassword);
    const targets = fleetTargets(agents);
    const setupStart = performance.now();
    const { configurationsMs } = await applyFleet(controller.api, targets, repoPath, repoPassword);
    console.log(`[${agents}] applied ${agents * 3 + 2} resources in ${((performance.now() - setupStart) / 1000).toFixed(1)} s; controller RSS ${memoryMiB(pid).rssMiB.toFixed(0)} MiB`);

    // Agents, split evenly over the workers.
    const reports: Promise<WorkerReport>[] = [];
    const workers: Worker[] = [];
    const registered: Promise<void>[] = [];
    for (let w = 0; w < WORKERS; w++) {
      const mine = targets.filter((t) => t.index % WORKERS === w);
      const input: WorkerInput = {
        url: controller.url, ...(controller.caFile ? { ca: readFileSync(controller.caFile, 'utf8') } : {}), enrolmentToken: controller.bootstrapToken, namespace: FLEET_NAMESPACE,
        agents: mine.map((t) => ({ name: t.agent, target: `${FLEET_NAMESPACE}/${t.appBinding}` })),
        rampMs: Math.min(60_000, agents * 20), pollWaitMs: POLL_WAIT_MS, progressMs: PROGRESS_MS, sessionMs: { min: SESSION_MS * 0.8, max: SESSION_MS * 1.2 },
        repositoryLocation: `local:${repoPath}`, repositoryPassword: repoPassword,
      };
      const worker = new Worker(new URL('./fleet/agent-worker.ts', import.meta.url), { workerData: input });
      workers.push(worker);
      registered.push(new Promise((resolve) => worker.on('message', (m: { type: string }) => m.type === 'registered' && resolve())));
      reports.push(new Promise((resolve, reject) => {
        worker.on('message', (m: WorkerReport) => m.type === 'report' && resolve(m));
        worker.once('error', reject);
      }));
    }
    await Promise.all(registered);
    console.log(`[${agents}] ${agents} agents registered, polling and beating (${WORKERS} worker threads); controller RSS ${memoryMiB(pid).rssMiB.toFixed(0)} MiB, ${openSockets(pid)} sockets`);

    // One cron minute for all, far enough ahead that applying it is done before it comes.
    // The scheduler takes each configuration in after its apply (one status write each): on a
    // busy machine the last of 1,000 came after a minute only 15 s ahead, and never fired in it.
    const fireAtMs = Math.ceil((Date.now() + configurationsMs * 3 + 45_000) / 60_000) * 60_000;
    await scheduleAll(controller.api, targets, `${new Date(fireAtMs).getUTCMinutes()} * * * *`);
    const scheduled = await listAll<{ status?: { nextScheduleTime?: string } }>(controller.api, `/api/v1/backupconfigurations?namespace=${FLEET_NAMESPACE}`);
    const notYet = scheduled.filter((c) => c.status?.nextScheduleTime !== new Date(fireAtMs).toISOString()).length;
    console.log(`[${agents}] applied the schedules ${((fireAtMs - Date.now()) / 1000).toFixed(0)} s before the cron minute; ${notYet} of ${agents} configurations not yet taken in by the scheduler`);
    console.log(`[${agents}] all ${agents} configurations fire at ${new Date(fireAtMs).toISOString()} (jitter up to ${jitterS} s, ~${SESSION_MS / 1000} s per session)`);

    // Measured from here: the set-up's applies and registrations are not the load.
    for (const w of workers) w.postMessage({ type: 'measure' });
    // Meanwhile an admin lists sessions and configurations, one call a second.
    const adminLog = new CallLog();
    let lastSessions: ListedSession[] = [];
    let adminStop = false;
    const admin = (async () => {
      for (let i = 0; !adminStop; i++) {
        const kind = i % 2 === 0 ? 'adminListSessions' : 'adminListConfigurations';
        try {
          // In pages of ADMIN_PAGE, as the CLI lists (cli/list-pages.ts): each page is one call.
          const items: Parameters<typeof listed>[0][] = [];
          for (let token: string | undefined, first = true; first || token !== undefined; first = false) {
            const started = performance.now();
            const page = await api<{ items: Parameters<typeof listed>[0][]; metadata?: { continue?: string } }>(controller.api, 'GET', `/api/v1/${kind === 'adminListSessions' ? 'backupsessions' : 'backupconfigurations'}?namespace=${FLEET_NAMESPACE}&limit=${ADMIN_PAGE}${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
            adminLog.add(kind, performance.now() - started);
            items.push(...page.items);
            token = page.metadata?.continue;
          }
          if (kind === 'adminListSessions') lastSessions = items.map(listed);
        } catch (err) {
          adminLog.error(kind, (err as { code?: string }).code ?? 'error');
        }
        await sleep(1000);
      }
    })();
    // The controller's event-loop delay, scraped (and so reset) every 5 s.
    const loopDelays: { atMs: number; p99Ms: number; maxMs: number }[] = [];
    let metricsText = '';
    const metricsClient = new Agent(controller.caFile ? { connect: { ca: readFileSync(controller.caFile, 'utf8') } } : {});
    const scrape = async (): Promise<void> => {
      metricsText = await scrapeMetrics(controller.url, metricsClient);
      loopDelays.push({ atMs: Date.now(), ...loopDelayOf(metricsText) });
    };
    const scraper = setInterval(() => void scrape().catch(() => undefined), 5000);
    const cpuStart = cpuSeconds(pid);
    const loadStart = Date.now();
    // The set-up (applying 3 resources per agent, registrations) has its own peak: reported apart.
    const setUpPeakRssMiB = memoryMiB(pid).peakRssMiB;
    const peakReset = resetPeakRss(pid);
    // A controller too busy to answer this first scrape leaves the utilization unknown (NaN), not the run failed.
    const busyStart = await scrapeMetrics(controller.url, metricsClient).then(busySecondsOf, () => NaN);
    const deadline = fireAtMs + jitterS * 1000 + SESSION_MS * 1.2 + 180_000;
    let reportedAt = 0;
    let maxSockets = 0;
    while (Date.now() < deadline) {
      await sleep(2000);
      maxSockets = Math.max(maxSockets, openSockets(pid));
      const done = lastSessions.filter((s) => s.phase === 'Succeeded' || s.phase === 'Failed' || s.phase === 'Cancelled').length;
      if (Date.now() - reportedAt >= 15_000 && Date.now() > fireAtMs) {
        reportedAt = Date.now();
        console.log(`[${agents}] +${((Date.now() - fireAtMs) / 1000).toFixed(0)} s: ${lastSessions.length} sessions, ${lastSessions.filter((s) => s.phase === 'Running').length} running, ${done} finished; event-loop delay max ${fmt(loopDelays.at(-1)?.maxMs ?? NaN)} ms; controller RSS ${memoryMiB(pid).rssMiB.toFixed(0)} MiB`);
      }
      if (Date.now() > fireAtMs && done >= agents) break;
    }
    const loadSeconds = (Date.now() - loadStart) / 1000;
    const cpuUsed = cpuSeconds(pid) - cpuStart;
    const cpuPercent = (100 * cpuUsed) / loadSeconds;
    const mem = memoryMiB(pid);
    const where = rssByMapping(pid);
    adminStop = true;
    await admin;
    clearInterval(scraper);
    await retried(scrape);
    const elu = (busySecondsOf(metricsText) - busyStart) / ((Date.now() - loadStart) / 1000);
    await metricsClient.close();
    for (const w of workers) w.postMessage({ type: 'stop' });
    const done = await Promise.all(reports);
    await Promise.all(workers.map((w) => w.terminate()));

    const items = await retried(() => listAll<Parameters<typeof listed>[0]>(controller.api, `/api/v1/backupsessions?namespace=${FLEET_NAMESPACE}`));
    const sessions = items.map(listed);
    const claims: SessionRecord[] = done.flatMap((r) => r.sessions);
    const outcome = fleetOutcome(targets.map((t) => t.configuration), fireAtMs, sessions, claims);
    const calls: CallLogData = mergeCallLogs([...done.map((r) => r.calls), adminLog.export()]);
    // When sessions waited: created -> claimed by an agent (controller clock).
    calls.latencyMs.claimDelay = sessions.filter((s) => s.createdMs !== undefined && s.startedMs !== undefined).map((s) => s.startedMs! - s.createdMs!);
    const kinds = Object.fromEntries(Object.entries(calls.latencyMs).map(([k, v]) => [k, summarizeLatency(v)]));
    const p99Of = (ks: string[]): number => summarizeLatency(ks.flatMap((k) => (k === 'pollAssign' ? [] : calls.latencyMs[k] ?? []))).p99Ms;
    const result: RunResult = {
      agents,
      kinds,
      p99AgentMs: p99Of(AGENT_KINDS),
      p99AdminMs: p99Of(ADMIN_KINDS),
      controllerRssMiB: mem.peakRssMiB,
      controllerCpuPercent: cpuPercent,
      cpuSecondsPerAgentMinute: cpuUsed / (agents * (loadSeconds / 60)),
      eventLoopUtilization: elu,
      lostSessions: outcome.lost.length,
      doubledSessions: outcome.doubled.length,
    };

    console.log(`\n[${agents}] latency by call (ms)          count     p50     p99     max`);
    for (const k of [...AGENT_KINDS, ...ADMIN_KINDS, 'register', 'connectTcp', 'connect', 'queued', 'queuedNewConnection', 'answer', 'claimDelay']) {
      const s = kinds[k];
      if (s) console.log(`  ${k.padEnd(30)}${String(s.count).padStart(7)}${fmt(s.p50Ms).padStart(8)}${fmt(s.p99Ms).padStart(8)}${fmt(s.maxMs).padStart(8)}`);
    }
    console.log('  (poll: a 204 after the 20 s hold, less the hold; pollAssign: a poll answered with a session, hold included; queued: call made -> headers written (queuedNewConnection: on a new connection, its handshakes included); answer: headers written -> response headers (long-polls included); claimDelay: session created -> claimed)');
    // TCP retransmits a lost SYN after 1, 3 and 7 s: calls piled up there waited for a connection.
    const slow = AGENT_KINDS.flatMap((k) => (k === 'pollAssign' ? [] : calls.latencyMs[k] ?? []));
    const edges = [100, 1000, 3000, 7000, 15000, Infinity];
    const counts = edges.map((hi, i) => slow.filter((ms) => ms >= (i === 0 ? 0 : edges[i - 1]!) && ms < hi).length);
    console.log(`  agent calls by latency: ${edges.map((hi, i) => `<${hi === Infinity ? '∞' : hi >= 1000 ? `${hi / 1000} s` : `${hi} ms`} ${counts[i]}`).join(', ')}`);
    console.log(`  simulator event-loop delay per worker (p99/max ms): ${done.map((r) => `${fmt(r.loopDelayMs.p99)}/${fmt(r.loopDelayMs.max)}`).join(', ')}`);
    if (Object.keys(calls.errors).length > 0) console.log(`  failed calls: ${JSON.stringify(calls.errors)}`);
    const starts = spreadOf(sessions.flatMap((s) => (s.startedMs === undefined ? [] : [s.startedMs])), 10);
    const created = spreadOf(sessions.flatMap((s) => (s.createdMs === undefined ? [] : [s.createdMs])), 10);
    const running = maxConcurrent(claims.filter((c) => c.finishedAtMs !== undefined).map((c) => ({ startMs: c.claimedAtMs, endMs: c.finishedAtMs! })));
    console.log(`\n[${agents}] sessions: due ${outcome.due}, created ${outcome.created}, finished ${outcome.finished}, succeeded ${outcome.succeeded}, lost ${outcome.lost.length}, doubled ${outcome.doubled.length}; at most ${running} running at once`);
    for (const l of [...outcome.lost.slice(0, 5), ...outcome.doubled.slice(0, 5)]) console.log(`  ${l}`);
    console.log(`  created over ${created.spanSeconds.toFixed(0)} s, at most ${created.maxPerSecond} in one second; started over ${starts.spanSeconds.toFixed(0)} s, at most ${starts.maxPerSecond} in one second`);
    console.log(`  started per ${starts.bucketSeconds} s: ${starts.buckets.join(' ')}`);
    const gauge = (name: string): number => Number(new RegExp(`^sidestash_controller_${name} (\\S+)`, 'm').exec(metricsText)?.[1] ?? NaN) / 2 ** 20;
  console.log(`\n[${agents}] controller: peak RSS ${mem.peakRssMiB.toFixed(0)} MiB (now ${mem.rssMiB.toFixed(0)} MiB; V8 heap used ${gauge('nodejs_heap_size_used_bytes').toFixed(0)} of ${gauge('nodejs_heap_size_total_bytes').toFixed(0)} MiB, external ${gauge('nodejs_external_memory_bytes').toFixed(0)} MiB; ${(gauge('nodejs_active_handles_total') * 2 ** 20).toFixed(0)} handles open), CPU ${cpuPercent.toFixed(0)}% of a core over the load (${loadSeconds.toFixed(0)} s): ${result.cpuSecondsPerAgentMinute.toFixed(4)} CPU-s per agent-minute; event-loop utilization ${(100 * elu).toFixed(0)}%`);
    console.log(`  peak RSS ${peakReset ? 'of the load only' : 'including the set-up (VmHWM could not be reset)'}; the set-up's peak: ${setUpPeakRssMiB.toFixed(0)} MiB`);
    console.log(`  resident at the end of the load: ${where.mallocBrkHeapMiB.toFixed(0)} MiB malloc's brk heap, ${where.anonymousMiB.toFixed(0)} MiB anonymous (V8's heap is ${gauge('nodejs_heap_size_total_bytes').toFixed(0)} MiB of it), ${where.fileMiB.toFixed(0)} MiB files`);
    console.log(`  sockets open: at most ${maxSockets} (${(maxSockets / agents).toFixed(2)} per agent; an idle TLS connection holds ~60 KiB: bench/fleet/tls-cost.bench.ts)`);
    const worstLoop = loopDelays.reduce((a, b) => (b.maxMs > a.maxMs ? b : a), { atMs: 0, p99Ms: NaN, maxMs: 0 });
    console.log(`  event-loop delay: worst 5 s window p99 ${fmt(Math.max(...loopDelays.map((l) => l.p99Ms)))} ms, max ${fmt(worstLoop.maxMs)} ms (at ${((worstLoop.atMs - fireAtMs) / 1000).toFixed(0)} s after the cron minute)`);
    const server = serverSideWithin100Ms(metricsText);
    console.log(`  answered within 100 ms by the controller's own clock: ${Object.entries(server).filter(([, v]) => v.count > 0).map(([k, v]) => `${k.replace('/api/v1/agents/:agentNamespace/:agent', '…')} ${v.within100MsPercent.toFixed(1)}% of ${v.count}`).join('; ')}`);
    await controller.stop();
    if (PROFILE) {
      const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
      if (file) {
        const hot = hotFunctions(readFileSync(join(profileDir, file), 'utf8'), ROOT);
        result.hot = hot;
        console.log(`\n[${agents}] controller CPU profile (${hot.sampledSeconds.toFixed(0)} s), most self time:`);
        for (const h of hot.self) console.log(`  ${h.selfPercent.toFixed(1).padStart(5)}%  ${h.name}`);
        console.log('  most time including callees:');
        for (const h of hot.total) console.log(`  ${h.totalPercent.toFixed(1).padStart(5)}%  ${h.name}`);
      }
    }
    return result;
  } finally {
    await controller.stop();
    if (env.SIDESTASH_FLEET_KEEP !== '1') await tmp.cleanup();
    else console.log(`kept ${tmp.path}`);
  }
}

function listed(s: { metadata: { name: string; creationTimestamp?: string }; spec: { invoker?: { name: string } }; status?: { phase?: string; startedAt?: string } }): ListedSession {
  const t = (v: string | undefined): number | undefined => (v === undefined ? undefined : Date.parse(v));
  return { name: s.metadata.name, invoker: s.spec.invoker?.name ?? '', phase: s.status?.phase, createdMs: t(s.metadata.creationTimestamp), startedMs: t(s.status?.startedAt) };
}

const results: RunResult[] = [];
for (const n of counts) {
  results.push(await runFleet(n));
  const r = results.at(-1)!;
  const summary = { agents: r.agents, tls: TLS_MODE, p99AgentMs: Math.round(r.p99AgentMs), p99AdminMs: Math.round(r.p99AdminMs), controllerRssMiB: Math.round(r.controllerRssMiB), controllerCpuPercent: Math.round(r.controllerCpuPercent), cpuSecondsPerAgentMinute: +r.cpuSecondsPerAgentMinute.toFixed(4), eventLoopUtilization: +r.eventLoopUtilization.toFixed(2), lostSessions: r.lostSessions, doubledSessions: r.doubledSessions };
  const met = r.p99AgentMs < TARGET_P99_MS && r.p99AdminMs < TARGET_P99_MS && r.controllerRssMiB < TARGET_RSS_MIB && r.lostSessions === 0 && r.doubledSessions === 0;
  console.log(`\n[${n}] targets (p99 < ${TARGET_P99_MS} ms, RSS < ${TARGET_RSS_MIB} MiB, none lost or doubled): ${met ? 'met' : 'MISSED'}`);
  console.log(JSON.stringify(summary));
}
if (results.length > 1) {
  const knee = results.find((r) => Math.max(r.p99AgentMs, r.p99AdminMs) >= TARGET_P99_MS);
  console.log('\nagents   p99 agent ms   p99 admin ms   RSS MiB   CPU %   CPU-s/agent-min   loop busy %');
  for (const r of results) console.log(`${String(r.agents).padStart(6)}${fmt(r.p99AgentMs).padStart(15)}${fmt(r.p99AdminMs).padStart(15)}${r.controllerRssMiB.toFixed(0).padStart(10)}${r.controllerCpuPercent.toFixed(0).padStart(8)}${r.cpuSecondsPerAgentMinute.toFixed(4).padStart(18)}${(100 * r.eventLoopUtilization).toFixed(0).padStart(14)}`);
  if (knee) {
    console.log(`knee: p99 passes ${TARGET_P99_MS} ms at ${knee.agents} agents; the controller's time there went to:`);
    for (const h of knee.hot?.total.slice(0, 8) ?? []) console.log(`  ${h.totalPercent.toFixed(1).padStart(5)}%  ${h.name}`);
  } else {
    console.log(`knee: p99 stayed under ${TARGET_P99_MS} ms up to ${results.at(-1)!.agents} agents`);
  }
  console.log(JSON.stringify({ tls: TLS_MODE, knee: knee?.agents ?? null, runs: results.map((r) => ({ agents: r.agents, p99AgentMs: Math.round(r.p99AgentMs), p99AdminMs: Math.round(r.p99AdminMs), controllerRssMiB: Math.round(r.controllerRssMiB) })) }));
}
