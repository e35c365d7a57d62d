// Leader election (controller/kubernetes/leader-elector.ts) with several candidates against a
// real kube-apiserver's Lease: exactly one leads; a leader stopped gracefully releases and
// another takes over at once; a leader that dies without releasing is replaced after the lease
// duration and not before; a leader cut off from the API server steps down at its renew deadline
// and says so, before another takes over. Every candidate's leading intervals are recorded and
// must never overlap; the Lease itself is watched throughout (its holder history).
// Two candidates run as processes of their own (test/helpers/elector-process.ts), to be killed
// with SIGKILL and frozen with SIGSTOP.
// Durations are shortened (lease 6 s, renew deadline 4 s, retry 0.5 s) to keep the file short.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { ErrorCodes } from '../common/errors.ts';
import { Informer } from '../controller/kubernetes/informer.ts';
import { KubeClient } from '../controller/kubernetes/kube-client.ts';
import { loadKubeConnection } from '../controller/kubernetes/kube-config.ts';
import { LeaderElector } from '../controller/kubernetes/leader-elector.ts';
import type { Lease, StepDownReason } from '../controller/kubernetes/leader-elector.ts';
import { Leases } from '../controller/kubernetes/resource-type.ts';
import { startKubeApiServer } from './helpers/kube-apiserver.ts';
import type { KubeApiServer } from './helpers/kube-apiserver.ts';
import { waitFor } from './helpers/scenario.ts';
import { startTcpCutter } from './helpers/tcp-cutter.ts';
import type { TcpCutter } from './helpers/tcp-cutter.ts';

const LEASE_MS = 6000;
const RENEW_DEADLINE_MS = 4000;
const RETRY_MS = 500;
const NS = 'election';
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child() { return quiet; } };

let kube: KubeApiServer;
let client: KubeClient;
let cutter: TcpCutter;
let cutClient: KubeClient;
const stopAll = new AbortController();
before(async () => {
  kube = await startKubeApiServer();
  const conn = loadKubeConnection({ SIDESTASH_KUBECONFIG: kube.kubeconfig });
  client = new KubeClient(conn);
  cutter = await startTcpCutter(kube.url);
  cutClient = new KubeClient({ ...conn, server: cutter.url }, { requestTimeoutMs: 2000 });
  await kube.kubectlOk(['create', 'namespace', NS]);
});
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    try {
      process.kill(c.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  stopAll.abort();
  await cutClient?.close();
  await client?.close();
  await cutter?.stop();
  await kube?.stop();
});

interface Interval {
  id: string;
  startMs: number;
  endMs?: number;
  reason?: StepDownReason;
  signal: AbortSignal;
}

/** Candidates for one Lease, their leading intervals, and the Lease's history seen by a watch. */
function election(leaseName: string) {
  const intervals: Interval[] = [];
  const history: { holder: string; renewTime?: string; acquireTime?: string; transitions?: number }[] = [];
  const watch = new Informer<Lease>(client, { type: Leases, namespace: NS, fieldSelector: `metadata.name=${leaseName}`, signal: stopAll.signal, log: quiet });
  watch.on((type, lease) => {
    if (type !== 'DELETED') history.push({ holder: lease.spec?.holderIdentity ?? '', ...(lease.spec?.renewTime ? { renewTime: lease.spec.renewTime } : {}), ...(lease.spec?.acquireTime ? { acquireTime: lease.spec.acquireTime } : {}), transitions: lease.spec?.leaseTransitions ?? 0 });
  });
  const candidates: { elector: LeaderElector; stop: AbortController; done?: Promise<void> }[] = [];
  const add = (id: string, options: { via?: KubeClient; releaseOnStop?: boolean } = {}) => {
    const stop = new AbortController();
    const elector = new LeaderElector(options.via ?? client, {
      namespace: NS, name: leaseName, identity: id, leaseDurationMs: LEASE_MS, renewDeadlineMs: RENEW_DEADLINE_MS, retryPeriodMs: RETRY_MS, log: quiet,
      ...(options.releaseOnStop !== undefined ? { releaseOnStop: options.releaseOnStop } : {}),
      onStartedLeading: (signal) => intervals.push({ id, startMs: Date.now(), signal }),
      onStoppedLeading: (reason) => {
        const open = intervals.findLast((i) => i.id === id && i.endMs === undefined)!;
        open.endMs = Date.now();
        open.reason = reason;
      },
    });
    const c = { elector, stop, done: elector.run(AbortSignal.any([stop.signal, stopAll.signal])) };
    candidates.push(c);
    return c;
  };
  const leaders = () => candidates.filter((c) => c.elector.leading);
  const assertNoOverlap = () => {
    const sorted = [...intervals].sort((a, b) => a.startMs - b.startMs);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!;
      assert.ok(prev.endMs !== undefined && prev.endMs <= sorted[i]!.startMs, `two leaders at once: ${prev.id} [${prev.startMs}, ${prev.endMs ?? 'still'}] and ${sorted[i]!.id} from ${sorted[i]!.startMs}`);
    }
    // The Lease went from holder to holder; acquireTime and transitions moved only on a change.
    const holders = history.map((h) => h.holder).filter((h, i, a) => i === 0 || a[i - 1] !== h);
    return holders;
  };
  return { intervals, history, add, leaders, assertNoOverlap, watch };
}

const renewals = (history: { holder: string; renewTime?: string }[], holder: string): number => history.filter((h) => h.holder === holder).length;

test('three candidates: exactly one leads and keeps renewing; the others wait', async () => {
  const e = election('three');
  await e.watch.synced();
  const [a, b, c] = [e.add('a'), e.add('b'), e.add('c')];
  const leader = await waitFor('a leader', 30_000, async () => (e.leaders().length > 0 ? e.leaders()[0] : undefined));
  await waitFor('five renewals seen on the Lease', 30_000, async () => (renewals(e.history, leader.elector.identity) >= 5 ? true : undefined));
  assert.equal(e.leaders().length, 1);
  assert.equal(e.intervals.length, 1, 'nobody else ever led');
  for (const x of [a, b, c]) assert.equal(x.elector.holder, leader.elector.identity);
  assert.deepEqual(e.assertNoOverlap(), [leader.elector.identity]);
  const lease = await client.get<Lease>(Leases, NS, 'three');
  assert.equal(lease.spec?.leaseDurationSeconds, LEASE_MS / 1000);
  assert.equal(lease.spec?.leaseTransitions, 0);
  assert.match(lease.spec?.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  for (const x of [a, b, c]) x.stop.abort();
  await Promise.all([a.done, b.done, c.done]);
});

test('the leader stopped gracefully releases the Lease: another leads within about a retry period, not a lease duration', async () => {
  const e = election('graceful');
  await e.watch.synced();
  const first = e.add('first');
  await waitFor('first to lead', 30_000, async () => (first.elector.leading ? true : undefined));
  const second = e.add('second');
  await waitFor('second to see first', 30_000, async () => (second.elector.holder === 'first' ? true : undefined));
  const leaderSignal = e.intervals[0]!.signal;
  const stoppedMs = Date.now();
  first.stop.abort();
  await first.done;
  assert.equal(leaderSignal.aborted, true, 'leader-only work is told to stop');
  assert.equal(leaderSignal.reason, 'released');
  await waitFor('second to lead', 30_000, async () => (second.elector.leading ? true : undefined));
  await waitFor('the watch to see second hold the Lease', 30_000, async () => (e.history.some((h) => h.holder === 'second') ? true : undefined));
  const tookMs = e.intervals[1]!.startMs - stoppedMs;
  assert.ok(tookMs < LEASE_MS - 1000, `took over in ${tookMs} ms: the Lease was not released`);
  assert.ok(e.history.some((h) => h.holder === ''), 'the Lease was released (no holder) in between');
  assert.deepEqual(e.assertNoOverlap(), ['first', '', 'second']);
  assert.equal((await client.get<Lease>(Leases, NS, 'graceful')).spec?.leaseTransitions, 1);
  second.stop.abort();
  await second.done;
});

test('a leader that dies without releasing is replaced after the lease duration, not before', async () => {
  const e = election('killed');
  await e.watch.synced();
  const first = e.add('first', { releaseOnStop: false });
  await waitFor('first to lead', 30_000, async () => (first.elector.leading ? true : undefined));
  const second = e.add('second');
  await waitFor('second to see first', 30_000, async () => (second.elector.holder === 'first' ? true : undefined));
  first.stop.abort(); // as kill -9: it stops renewing and leaves the Lease as it is
  await first.done;
  await waitFor('second to lead', 30_000, async () => (second.elector.leading ? true : undefined));
  // The Lease's watch may deliver second's acquisition after second knows it leads (CI saw it late).
  await waitFor('the watch to see second hold the Lease', 30_000, async () => (e.history.some((h) => h.holder === 'second') ? true : undefined));
  const lastRenewOfFirst = Date.parse(e.history.filter((h) => h.holder === 'first').at(-1)!.renewTime!);
  const secondAcquired = Date.parse((await client.get<Lease>(Leases, NS, 'killed')).spec!.acquireTime!);
  const gapMs = secondAcquired - lastRenewOfFirst;
  assert.ok(gapMs >= LEASE_MS, `second took over ${gapMs} ms after first's last renewal, before the lease duration (${LEASE_MS} ms)`);
  assert.ok(gapMs < LEASE_MS + 5000, `second took over only ${gapMs} ms after first's last renewal`);
  assert.ok(!e.history.some((h) => h.holder === ''), 'never released');
  assert.deepEqual(e.assertNoOverlap(), ['first', 'second']);
  second.stop.abort();
  await second.done;
});

test('a leader cut off from the API server steps down at its renew deadline, before another takes over, and follows afterwards', async () => {
  const e = election('partition');
  await e.watch.synced();
  const cut = e.add('cut', { via: cutClient });
  await waitFor('cut to lead', 30_000, async () => (cut.elector.leading ? true : undefined));
  const other = e.add('other');
  await waitFor('other to see cut', 30_000, async () => (other.elector.holder === 'cut' ? true : undefined));
  cutter.hold();
  cutter.cut();
  await waitFor('other to lead', 30_000, async () => (other.elector.leading ? true : undefined));
  const [cutInterval, otherInterval] = e.intervals;
  assert.equal(cutInterval!.reason, 'renew-deadline', 'it said why it stepped down');
  assert.equal(cutInterval!.signal.reason, 'renew-deadline');
  assert.ok(cutInterval!.endMs! <= otherInterval!.startMs, 'stepped down before the other took over');
  cutter.release();
  await waitFor('cut to see the new leader', 30_000, async () => (cut.elector.holder === 'other' ? true : undefined));
  await waitFor('two more renewals by other', 30_000, async () => (renewals(e.history, 'other') >= 3 ? true : undefined));
  assert.equal(cut.elector.leading, false);
  assert.deepEqual(e.assertNoOverlap(), ['cut', 'other']);
  for (const x of [cut, other]) x.stop.abort();
  await Promise.all([cut.done, other.done]);
});

test('a stale write to the Lease is refused: two candidates cannot both acquire the same version', async () => {
  const e = election('race');
  await e.watch.synced();
  await client.create<Lease>(Leases, { metadata: { name: 'race', namespace: NS }, spec: { holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 0 } });
  const seen = await client.get<Lease>(Leases, NS, 'race');
  await client.replace<Lease>(Leases, { ...seen, spec: { ...seen.spec, holderIdentity: 'x' } });
  await assert.rejects(client.replace<Lease>(Leases, { ...seen, spec: { ...seen.spec, holderIdentity: 'y' } }), (err: { code?: string }) => err.code === ErrorCodes.CONFLICT);
  assert.equal((await client.get<Lease>(Leases, NS, 'race')).spec?.holderIdentity, 'x');
});

const ELECTOR = fileURLToPath(new URL('./helpers/elector-process.ts', import.meta.url));

/** A candidate in a process of its own; `lines` are what it reported (started/stopped). */
function electorProcess(lease: string, id: string) {
  const child = spawn(process.execPath, [ELECTOR, kube.kubeconfig, NS, lease, id, String(LEASE_MS), String(RENEW_DEADLINE_MS), String(RETRY_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines: { event: string; reason?: string; atMs: number }[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(JSON.parse(l)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, lines, exited, saw: (event: string) => lines.some((l) => l.event === event) };
}

test('a leader process killed with SIGKILL is replaced after the lease duration, not before', async () => {
  const e = election('kill9');
  await e.watch.synced();
  const victim = electorProcess('kill9', 'victim');
  await waitFor('the process to lead', 60_000, async () => (victim.saw('started') ? true : undefined));
  const second = e.add('second');
  await waitFor('second to see the process lead', 30_000, async () => (second.elector.holder === 'victim' ? true : undefined));
  process.kill(victim.child.pid!, 'SIGKILL');
  await victim.exited;
  await waitFor('second to lead', 30_000, async () => (second.elector.leading ? true : undefined));
  await waitFor('the watch to see second hold the Lease', 30_000, async () => (e.history.some((h) => h.holder === 'second') ? true : undefined));
  const lastRenew = Date.parse(e.history.filter((h) => h.holder === 'victim').at(-1)!.renewTime!);
  const acquired = Date.parse((await client.get<Lease>(Leases, NS, 'kill9')).spec!.acquireTime!);
  assert.ok(acquired - lastRenew >= LEASE_MS, `taken over ${acquired - lastRenew} ms after the last renewal`);
  assert.deepEqual(e.assertNoOverlap(), ['victim', 'second']);
  second.stop.abort();
  await second.done;
});

test('a frozen leader (SIGSTOP) is replaced after the lease duration; thawed, it steps down and never writes the Lease again', async () => {
  const e = election('frozen');
  await e.watch.synced();
  const frozen = electorProcess('frozen', 'frozen');
  await waitFor('the process to lead', 60_000, async () => (frozen.saw('started') ? true : undefined));
  const other = e.add('other');
  await waitFor('other to see the process lead', 30_000, async () => (other.elector.holder === 'frozen' ? true : undefined));
  process.kill(frozen.child.pid!, 'SIGSTOP');
  await waitFor('other to lead', 30_000, async () => (other.elector.leading ? true : undefined));
  const lastRenew = Date.parse(e.history.filter((h) => h.holder === 'frozen').at(-1)!.renewTime!);
  assert.ok(e.intervals[0]!.startMs - lastRenew >= LEASE_MS, 'not before the lease duration');
  // Deno's ChildProcess.kill refuses signals to a stopped child: the process-wide kill works on both.
  process.kill(frozen.child.pid!, 'SIGCONT');
  await waitFor('the thawed process to step down', 30_000, async () => (frozen.saw('stopped') ? true : undefined));
  const stopped = frozen.lines.find((l) => l.event === 'stopped')!;
  assert.ok(stopped.reason === 'renew-deadline' || stopped.reason === 'lost-lease', `it said why: ${stopped.reason}`);
  const renewalsBefore = renewals(e.history, 'other');
  await waitFor('three more renewals by other', 30_000, async () => (renewals(e.history, 'other') >= renewalsBefore + 3 ? true : undefined));
  const sinceTakeover = e.history.slice(e.history.findIndex((h) => h.holder === 'other'));
  assert.deepEqual([...new Set(sinceTakeover.map((h) => h.holder))], ['other'], 'the thawed process never wrote the Lease');
  assert.equal(frozen.lines.filter((l) => l.event === 'started').length, 1, 'and never led again');
  assert.equal(other.elector.leading, true);
  process.kill(frozen.child.pid!, 'SIGTERM');
  await frozen.exited;
  other.stop.abort();
  await other.done;
});
