// SerialBeat with steps that the test ends by hand: within a beat the steps run one after the
// other; one step never runs twice at once; a step's failure does not stop the next; a tick
// during a step makes that step run once more right after it (not at once, not lost, several
// ticks one more), without waiting for the later steps of the slow beat: a slow or hanging
// heartbeat never holds back the next binlog-archive sync, which renews the archives' leases.
// After stop() no step starts.
import assert from 'node:assert/strict';
import { setImmediate } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { SerialBeat } from './serial-beat.ts';

/** Steps that log when they start and wait until the test ends them. */
function manualSteps(names: string[]) {
  const log: string[] = [];
  const running = new Map<string, number>();
  let maxSameStep = 0;
  const waiting = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  const starts = new Map<string, () => void>();
  const steps = names.map((name) => () => {
    running.set(name, (running.get(name) ?? 0) + 1);
    maxSameStep = Math.max(maxSameStep, running.get(name)!);
    log.push(`start ${name}`);
    const p = new Promise<void>((resolve, reject) => waiting.set(name, { resolve, reject })).finally(() => running.set(name, running.get(name)! - 1));
    starts.get(name)?.();
    starts.delete(name);
    return p;
  });
  return {
    steps,
    log,
    /** The most runs of one step at the same time. */
    maxSameStep: () => maxSameStep,
    running: (name: string) => running.get(name) ?? 0,
    /** Resolves when the step `name` has started and waits to be ended. */
    started: (name: string): Promise<void> => (waiting.has(name) ? Promise.resolve() : new Promise<void>((r) => starts.set(name, r))),
    end: (name: string, fail = false): void => {
      const w = waiting.get(name);
      assert.ok(w, `${name} is running (log: ${log.join(', ')})`);
      waiting.delete(name);
      if (fail) w.reject(new Error(`${name} failed`));
      else w.resolve();
    },
  };
}

/** A few turns of the event loop, for what must not happen (or must have happened by now). */
const turns = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await setImmediate();
};

describe('SerialBeat', () => {
  it('runs the steps one after the other', async () => {
    const m = manualSteps(['sync', 'heartbeat']);
    const beat = new SerialBeat(m.steps);
    beat.tick();
    await m.started('sync');
    await turns();
    assert.deepEqual(m.log, ['start sync'], 'the heartbeat waits for the sync');
    m.end('sync');
    await m.started('heartbeat');
    m.end('heartbeat');
    await beat.idle();
    assert.deepEqual(m.log, ['start sync', 'start heartbeat']);
    assert.equal(m.maxSameStep(), 1);
  });

  it('a failed step does not keep the next from running', async () => {
    const m = manualSteps(['sync', 'heartbeat']);
    const beat = new SerialBeat(m.steps);
    beat.tick();
    await m.started('sync');
    m.end('sync', true);
    await m.started('heartbeat');
    m.end('heartbeat');
    await beat.idle();
    assert.deepEqual(m.log, ['start sync', 'start heartbeat']);
  });

  it('ticks during a slow sync make one more sync right after it, not one at once, and one more heartbeat after the first', async () => {
    const m = manualSteps(['sync', 'heartbeat']);
    const beat = new SerialBeat(m.steps);
    beat.tick();
    beat.tick();
    await m.started('sync');
    beat.tick();
    await turns();
    assert.deepEqual(m.log, ['start sync'], 'no second sync while the first runs');
    m.end('sync');
    await turns();
    assert.deepEqual(m.log.toSorted(), ['start heartbeat', 'start sync', 'start sync'], 'the beat goes on, and the due sync starts once the first ended');
    m.end('sync');
    await turns();
    assert.equal(m.running('heartbeat'), 1, 'the due beat\'s heartbeat waits for the first one');
    m.end('heartbeat');
    await m.started('heartbeat');
    m.end('heartbeat');
    await beat.idle();
    await turns();
    assert.equal(m.log.length, 4, 'two ticks during a sync made one more beat, not two');
    assert.equal(m.maxSameStep(), 1, 'never one step twice at once');
  });

  it('a slow or hanging heartbeat does not hold back the next beat\'s sync (it renews the binlog archives\' leases)', async () => {
    const m = manualSteps(['sync', 'heartbeat']);
    const beat = new SerialBeat(m.steps);
    beat.tick();
    await m.started('sync');
    m.end('sync');
    await m.started('heartbeat');
    // The next interval comes while the heartbeat still waits for its answer.
    beat.tick();
    await turns();
    assert.deepEqual(m.log, ['start sync', 'start heartbeat', 'start sync'], 'the sync is sent at its interval');
    m.end('sync');
    beat.tick();
    await m.started('sync');
    m.end('sync');
    await turns();
    assert.equal(m.running('heartbeat'), 1, 'the hanging heartbeat is not sent again beside itself');
    m.end('heartbeat');
    await m.started('heartbeat');
    m.end('heartbeat');
    await beat.idle();
    await turns();
    assert.deepEqual(m.log, ['start sync', 'start heartbeat', 'start sync', 'start sync', 'start heartbeat'], 'the heartbeats due meanwhile make one more');
    assert.equal(m.maxSameStep(), 1);
  });

  it('after stop() no step starts, not even one due; idle() waits for the one running', async () => {
    const m = manualSteps(['sync', 'heartbeat']);
    const beat = new SerialBeat(m.steps);
    beat.tick();
    await m.started('sync');
    beat.tick();
    beat.stop();
    beat.tick();
    let idle = false;
    const waited = beat.idle().then(() => (idle = true));
    await turns();
    assert.equal(idle, false, 'idle() waits for the running step');
    m.end('sync');
    await waited;
    await turns();
    assert.deepEqual(m.log, ['start sync'], 'neither the beat\'s heartbeat nor the due sync started after stop()');
  });
});
