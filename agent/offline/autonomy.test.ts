// The autonomy loop (autonomy.ts) runs for as long as the agent does, looking once a second
// whether a schedule is due: it must not leave anything behind per look. Each look used to add
// an abort listener to the agent's signal that nothing removed (one a second: millions a month,
// and Node's MaxListenersExceededWarning after ten). And a scheduled time is marked as run only
// when that mark is on disk: a state directory that cannot be written (full) runs nothing and
// reports nothing, and the time is run once it can be.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { AsyncMutex } from '../../common/async-mutex.ts';
import { createLogger } from '../../common/log.ts';
import { tempDir } from '../../test/helpers/tmp.ts';
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentStateStore } from './agent-state.ts';
import { STATE_FILE_NAME } from './state-file.ts';
import { scheduledSlotOf } from './scheduled-slot.ts';
import type { ControllerClient } from '../controller-client.ts';
import { Autonomy } from './autonomy.ts';

let dir: { path: string; cleanup: () => Promise<void> };
before(async () => (dir = await tempDir()));
after(async () => dir?.cleanup());

/** An AbortController whose signal counts the abort listeners attached to it and not removed. */
function countingController(): { ac: AbortController; live: () => number } {
  const ac = new AbortController();
  const live = new Set<unknown>();
  const add = ac.signal.addEventListener.bind(ac.signal);
  const remove = ac.signal.removeEventListener.bind(ac.signal);
  ac.signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
    if (args[0] === 'abort') live.add(args[1]);
    add(...args);
  }) as typeof ac.signal.addEventListener;
  ac.signal.removeEventListener = ((...args: Parameters<AbortSignal['removeEventListener']>) => {
    if (args[0] === 'abort') live.delete(args[1]);
    remove(...args);
  }) as typeof ac.signal.removeEventListener;
  return { ac, live: () => live.size };
}

it('the loop that looks for due schedules leaves no abort listener behind per look', async () => {
  let looks = 0;
  // The controller answers (online): each look reads when it last did, and does nothing else.
  const client = { get lastContactMs() { looks++; return Date.now(); }, lastFailureMs: undefined } as unknown as ControllerClient;
  const log = createLogger({}, { level: 'error' });
  const autonomy = new Autonomy({ stateDir: dir.path, offlineAfterMs: 60_000, keyMaterial: Buffer.alloc(32, 3), keySource: 'key-file' }, 'default/agent-0', client, new AsyncMutex(), () => Promise.reject(new Error('nothing is due')), log);
  await autonomy.load();
  const { ac, live } = countingController();
  const running = autonomy.run(ac.signal);
  while (looks < 4) await new Promise((r) => setTimeout(r, 50));
  const listeners = live();
  ac.abort();
  await running;
  assert.ok(listeners <= 1, `${listeners} abort listeners left on the agent's signal after ${looks} looks`);
});

it('a scheduled time whose mark cannot be written is not run, not reported as run, and runs once the state can be written', async () => {
  const stateDir = join(dir.path, 'unwritable');
  const key = Buffer.alloc(32, 4);
  const log = createLogger({}, { level: 'error' });
  // A plan with a schedule due every second, last run a minute ago.
  const seed = new AgentStateStore(stateDir, key, 'default/agent-0', log);
  await seed.update((s) => {
    s.plan = { configurations: [{ name: 'often', uid: 'u-often', schedule: '* * * * * *', jitterMs: 0, assignment: { kind: 'BackupSession', namespace: 'default', invoker: 'often' } as never }], fetchedAt: new Date().toISOString() };
    s.lastSlotMs['u-often'] = Date.now() - 60_000;
  });
  // The next write fails (as on a full disk): its temporary file's name is taken by a directory.
  await mkdir(join(stateDir, `${STATE_FILE_NAME}.tmp`));
  let failures = 0;
  const watched = createLogger({}, { level: 'error', write: (line) => void (line.includes('offline scheduling failed') && failures++) });
  // The controller failed just now and last answered an hour ago: offline after 1 s of this process.
  const client = { lastContactMs: Date.now() - 3_600_000, lastFailureMs: Date.now() } as unknown as ControllerClient;
  const ran: string[] = [];
  const autonomy = new Autonomy({ stateDir, offlineAfterMs: 1000, keyMaterial: key, keySource: 'key-file' }, 'default/agent-0', client, new AsyncMutex(), async (a) => (ran.push(a.name), { phase: 'Succeeded', snapshotId: 'a'.repeat(64) }), watched);
  await autonomy.load();
  const ac = new AbortController();
  const running = autonomy.run(ac.signal);
  try {
    while (failures < 1) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(ran, [], 'nothing ran');
    assert.equal(autonomy.hasPendingReports(), false, 'no report of a backup that never started');
    // The state can be written again: the time is run (and reported) after all.
    await rmdir(join(stateDir, `${STATE_FILE_NAME}.tmp`));
    while (ran.length < 1) await new Promise((r) => setTimeout(r, 20));
  } finally {
    ac.abort();
    await running;
  }
  assert.equal(autonomy.hasPendingReports(), true);
});

it('a configuration the agent cannot schedule (a time zone its runtime does not know) does not stop the others', async () => {
  const stateDir = join(dir.path, 'one-bad');
  const key = Buffer.alloc(32, 6);
  const log = createLogger({}, { level: 'error' });
  const cfg = (name: string, extra: Record<string, string>) => ({ name, uid: `u-${name}`, schedule: '* * * * * *', jitterMs: 0, ...extra, assignment: { kind: 'BackupSession', namespace: 'default', invoker: name } as never });
  const seed = new AgentStateStore(stateDir, key, 'default/agent-0', log);
  await seed.update((s) => {
    s.plan = { configurations: [cfg('zoned', { timezone: 'Mars/Olympus_Mons' }), cfg('plain', {})], fetchedAt: new Date().toISOString() };
    s.lastSlotMs['u-zoned'] = Date.now() - 60_000;
    s.lastSlotMs['u-plain'] = Date.now() - 60_000;
  });
  let failures = 0;
  const watched = createLogger({}, { level: 'error', write: (line) => void (line.includes('Mars/Olympus_Mons') && failures++) });
  const client = { lastContactMs: Date.now() - 3_600_000, lastFailureMs: Date.now() } as unknown as ControllerClient;
  const ran: string[] = [];
  const autonomy = new Autonomy({ stateDir, offlineAfterMs: 1000, keyMaterial: key, keySource: 'key-file' }, 'default/agent-0', client, new AsyncMutex(), async (a) => (ran.push(a.invoker), { phase: 'Succeeded', snapshotId: 'a'.repeat(64) }), watched);
  await autonomy.load();
  const ac = new AbortController();
  const running = autonomy.run(ac.signal);
  try {
    // Several looks, each failing on the first configuration.
    while (failures < 3 && ran.length === 0) await new Promise((r) => setTimeout(r, 20));
  } finally {
    ac.abort();
    await running;
  }
  assert.ok(failures >= 1, 'the bad configuration is logged');
  assert.ok(ran.includes('plain'), `the other configuration ran (ran: ${JSON.stringify(ran)}, failed looks: ${failures})`);
});

it('an agent whose clock runs ahead of the controller\'s runs the scheduled times of the controller\'s clock (as last seen), not times the controller has not reached', async () => {
  const stateDir = join(dir.path, 'ahead');
  const key = Buffer.alloc(32, 8);
  const log = createLogger({}, { level: 'error' });
  const seed = new AgentStateStore(stateDir, key, 'default/agent-0', log);
  await seed.update((s) => {
    s.plan = { configurations: [{ name: 'often', uid: 'u-often', schedule: '* * * * * *', jitterMs: 0, assignment: { kind: 'BackupSession', namespace: 'default', invoker: 'often' } as never }], fetchedAt: new Date().toISOString() };
    s.lastSlotMs['u-often'] = Date.now() - 3_600_000;
  });
  // The controller's clock (its answers' Date header) is 10 minutes behind this agent's.
  const aheadMs = 10 * 60_000;
  const client = { lastContactMs: Date.now() - 3_600_000, lastFailureMs: Date.now(), clockOffsetMs: -aheadMs } as unknown as ControllerClient;
  const ran: string[] = [];
  const autonomy = new Autonomy({ stateDir, offlineAfterMs: 1000, keyMaterial: key, keySource: 'key-file' }, 'default/agent-0', client, new AsyncMutex(), async (a) => (ran.push(a.name), { phase: 'Succeeded', snapshotId: 'a'.repeat(64) }), log);
  await autonomy.load();
  const ac = new AbortController();
  const running = autonomy.run(ac.signal);
  try {
    while (ran.length === 0) await new Promise((r) => setTimeout(r, 20));
  } finally {
    ac.abort();
    await running;
  }
  const slot = scheduledSlotOf('often', ran[0]!)!;
  const controllerNow = Date.now() - aheadMs;
  // The controller refuses a report more than 5 minutes in its future (and would later hand the same time out again).
  assert.ok(slot <= controllerNow, `ran ${new Date(slot).toISOString()}, the controller's clock says ${new Date(controllerNow).toISOString()}`);
});
