// A claimed session waiting for the agent's lock (claim-keeper.ts): kept by progress reports
// while it waits, confirmed once more after a wait, and not started when the controller
// cancelled it or it cannot be confirmed; with the lock free, nothing is asked.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { AsyncMutex } from '../../common/async-mutex.ts';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import type { ProgressResponse } from '../../common/protocol.ts';
import { runWhenFree } from './claim-keeper.ts';
import type { Claim } from './claim-keeper.ts';

async function waitUntil(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

it('the lock free: runs at once, asking nothing', async () => {
  let asked = 0;
  let got = undefined as Claim | undefined;
  await runWhenFree(new AsyncMutex(), async () => (asked++, { cancel: false }), 5, async (c) => void (got = c));
  assert.deepEqual(got, { state: 'ok' });
  assert.equal(asked, 0);
});

const rows: [string, (n: number) => Promise<ProgressResponse>, Claim['state']][] = [
  ['kept while it waits, confirmed after', async () => ({ cancel: false }), 'ok'],
  ['cancelled while it waited', async (n) => ({ cancel: n >= 3 }), 'cancelled'],
  ['no longer this agent\'s (ended as lost)', async (n) => {
    if (n >= 3) throw new SidestashError(ErrorCodes.CONFLICT, 'BackupSession default/x is Failed, not Running');
    return { cancel: false };
  }, 'lost'],
  ['cannot be confirmed (the controller unreachable again)', async (n) => {
    if (n >= 3) throw new SidestashError(ErrorCodes.CONTROLLER_UNAVAILABLE, 'cannot reach the controller', { retryable: true });
    return { cancel: false };
  }, 'lost'],
];

for (const [what, answer, want] of rows) {
  it(`the lock held: ${what}`, async () => {
    const lock = new AsyncMutex();
    let release!: () => void;
    void lock.run(() => new Promise<void>((r) => (release = r)));
    let asked = 0;
    let seen: Claim | undefined;
    const claim = (): Claim | undefined => seen;
    const done = runWhenFree(lock, () => answer(++asked), 5, async (c) => void (seen = c));
    await waitUntil(() => asked >= 2);
    assert.equal(claim(), undefined, 'not run while the lock is held');
    release();
    await done;
    assert.equal(claim()?.state, want);
  });
}
