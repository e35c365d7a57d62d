// The autonomy loop (autonomy.ts) runs for as long as the agent does, looking once a second
// whether a schedule is due: it must not leave anything behind per look. Each look used to add
// an abort listener to the agent's signal that nothing removed (one a second: millions a month,
// and Node's MaxListenersExceededWarning after ten).
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { AsyncMutex } from '../../common/async-mutex.ts';
import { createLogger } from '../../common/log.ts';
import { tempDir } from '../../test/helpers/tmp.ts';
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
