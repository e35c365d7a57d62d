// SerialBeat with steps that the test ends by hand: the steps run one after the other, never two
// at once; a step's failure does not stop the next; a tick during a beat runs one more beat right
// after it (not at once, not lost), and several such ticks make one more.
import assert from 'node:assert/strict';
import { setImmediate } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { SerialBeat } from './serial-beat.ts';

/** Steps that log when they start and wait until the test ends them. */
function manualSteps(names: string[]) {
  const log: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const waiting = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  const starts = new Map<string, () => void>();
  const steps = names.map((name) => () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    log.push(`start ${name}`);
    const p = new Promise<void>((resolve, reject) => waiting.set(name, { resolve, reject })).finally(() => running--);
    starts.get(name)?.();
    starts.delete(name);
    return p;
  });
  return {
    steps,
    log,
    maxRunning: () => maxRunning,
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

/** A few turns of the event loop, for what must not happen. */
const turns = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await setImmediate();
};

describe('SerialBeat', () => {
  it('runs the steps one after the other, never two at once', async () => {
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
    assert.equal(m.maxRunning(), 1, 'at most one step at a time');
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

  it('ticks during a beat make one more beat right after it, not one at once', async () => {
    const m = manualSteps(['sync', 'heartbeat']);
    const beat = new SerialBeat(m.steps);
    beat.tick();
    beat.tick();
    await m.started('sync');
    beat.tick();
    await turns();
    assert.deepEqual(m.log, ['start sync'], 'no second beat while the first runs');
    m.end('sync');
    await m.started('heartbeat');
    m.end('heartbeat');
    await m.started('sync');
    assert.deepEqual(m.log, ['start sync', 'start heartbeat', 'start sync'], 'the due beat starts once the first ended');
    m.end('sync');
    await m.started('heartbeat');
    m.end('heartbeat');
    await beat.idle();
    await turns();
    assert.equal(m.log.length, 4, 'two ticks during a beat made one more beat, not two');
    assert.equal(m.maxRunning(), 1);
  });
});
