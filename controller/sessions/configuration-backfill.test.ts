// An upgraded controller rebuilds each configuration's outcome from the session history it has.
import assert from 'node:assert/strict';
import { upsert } from '../store/upsert.ts';
import { describe, it } from 'node:test';
import { Store } from '../store/store.ts';
import { backfillConfigurationStatus, replayUnrecordedOutcomes, statusFromHistory } from './configuration-backfill.ts';

describe('configuration status backfill', () => {
  it('replays finished sessions by finish time, whatever their order, and skips unfinished ones', async () => {
    const st = statusFromHistory({ nextScheduleTime: 'N' }, [
      { name: 'c', status: { phase: 'Failed', finishedAt: '2026-03-03T00:00:00Z', durationSeconds: 2 } },
      { name: 'a', status: { phase: 'Succeeded', finishedAt: '2026-03-01T00:00:00Z', durationSeconds: 9 } },
      { name: 'd', status: { phase: 'Running' } },
      { name: 'b', status: { phase: 'Failed', finishedAt: '2026-03-02T00:00:00Z' } },
    ]);
    assert.deepEqual(st, { nextScheduleTime: 'N', lastFinishedPhase: 'Failed', lastFinishedSession: 'c', lastDurationSeconds: 2, lastSuccessTime: '2026-03-01T00:00:00Z', consecutiveFailures: 2 });
  });

  it('fills in configurations without an outcome only, once', async () => {
    const store = new Store(':memory:');
    const put = async (kind: 'BackupConfiguration' | 'BackupSession', name: string, spec: Record<string, unknown>, status?: Record<string, unknown>) =>
      (await upsert(store, { apiVersion: 'sidestash.io/v1', kind, metadata: { name, namespace: 'default' }, spec, ...(status ? { status } : {}) }));
    const cfg = { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } } };
    await put('BackupConfiguration', 'upgraded', cfg, { nextScheduleTime: 'N' });
    await put('BackupConfiguration', 'recorded', cfg, { lastFinishedPhase: 'Failed', consecutiveFailures: 7 });
    await put('BackupConfiguration', 'never-ran', cfg);
    for (const invoker of ['upgraded', 'recorded']) await put('BackupSession', `${invoker}-1`, { invoker: { kind: 'BackupConfiguration', name: invoker } }, { phase: 'Succeeded', finishedAt: '2026-03-01T00:00:00Z', durationSeconds: 5 });
    await put('BackupSession', 'upgraded-2', { invoker: { kind: 'BackupConfiguration', name: 'upgraded' } }, { phase: 'Pending' });
    assert.equal((await backfillConfigurationStatus(store)), 1);
    const status = async (name: string) => (await store.get('BackupConfiguration', 'default', name))?.status;
    assert.deepEqual(await status('upgraded'), { nextScheduleTime: 'N', lastFinishedPhase: 'Succeeded', lastFinishedSession: 'upgraded-1', lastDurationSeconds: 5, lastSuccessTime: '2026-03-01T00:00:00Z', consecutiveFailures: 0 });
    assert.deepEqual(await status('recorded'), { lastFinishedPhase: 'Failed', consecutiveFailures: 7 }, 'a recorded outcome is never rewritten from history');
    assert.equal(await status('never-ran'), undefined);
    assert.equal((await backfillConfigurationStatus(store)), 0);
    store.close();
  });

  it('every sweep replays sessions that finished after the recorded one (a lost follow-up write), once, oldest first', async () => {
    const store = new Store(':memory:');
    const put = async (kind: 'BackupConfiguration' | 'BackupSession', name: string, spec: Record<string, unknown>, status?: Record<string, unknown>) =>
      (await upsert(store, { apiVersion: 'sidestash.io/v1', kind, metadata: { name, namespace: 'default' }, spec, ...(status ? { status } : {}) }));
    const cfg = { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } } };
    const inv = (name: string) => ({ invoker: { kind: 'BackupConfiguration', name } });
    await put('BackupConfiguration', 'behind', cfg, { lastFinishedPhase: 'Failed', lastFinishedSession: 'behind-1', consecutiveFailures: 1, nextScheduleTime: 'N' });
    await put('BackupSession', 'behind-1', inv('behind'), { phase: 'Failed', finishedAt: '2026-03-01T00:00:00Z' });
    await put('BackupSession', 'behind-3', inv('behind'), { phase: 'Failed', finishedAt: '2026-03-03T00:00:00Z', durationSeconds: 3 });
    await put('BackupSession', 'behind-2', inv('behind'), { phase: 'Succeeded', finishedAt: '2026-03-02T00:00:00Z', durationSeconds: 2 });
    await put('BackupSession', 'behind-4', inv('behind'), { phase: 'Running' });
    await put('BackupConfiguration', 'current', cfg, { lastFinishedPhase: 'Succeeded', lastFinishedSession: 'current-1', consecutiveFailures: 0 });
    await put('BackupSession', 'current-1', inv('current'), { phase: 'Succeeded', finishedAt: '2026-03-05T00:00:00Z' });
    await put('BackupConfiguration', 'pruned', cfg, { lastFinishedPhase: 'Succeeded', lastFinishedSession: 'gone', consecutiveFailures: 0 });
    await put('BackupSession', 'pruned-9', inv('pruned'), { phase: 'Failed', finishedAt: '2026-03-05T00:00:00Z' });
    assert.equal(await replayUnrecordedOutcomes(store), 1);
    const status = async (name: string) => (await store.get('BackupConfiguration', 'default', name))?.status;
    assert.deepEqual(await status('behind'), { nextScheduleTime: 'N', lastFinishedPhase: 'Failed', lastFinishedSession: 'behind-3', lastDurationSeconds: 3, lastSuccessTime: '2026-03-02T00:00:00Z', consecutiveFailures: 1 });
    assert.deepEqual(await status('pruned'), { lastFinishedPhase: 'Succeeded', lastFinishedSession: 'gone', consecutiveFailures: 0 }, 'a recorded session no longer in history: its place in time is unknown, nothing replayed');
    assert.equal(await replayUnrecordedOutcomes(store), 0, 'once');
    store.close();
  });

  it('a sweep reads only finished sessions and reads again only configurations with something to replay', async () => {
    const store = new Store(':memory:');
    const put = async (kind: 'BackupConfiguration' | 'BackupSession', name: string, spec: Record<string, unknown>, status?: Record<string, unknown>) =>
      (await upsert(store, { apiVersion: 'sidestash.io/v1', kind, metadata: { name, namespace: 'default' }, spec, ...(status ? { status } : {}) }));
    const cfg = { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } } };
    for (let i = 0; i < 20; i++) {
      await put('BackupConfiguration', `c${i}`, cfg, { lastFinishedPhase: 'Succeeded', lastFinishedSession: `c${i}-1`, consecutiveFailures: 0 });
      await put('BackupSession', `c${i}-1`, { invoker: { kind: 'BackupConfiguration', name: `c${i}` } }, { phase: 'Succeeded', finishedAt: '2026-03-01T00:00:00Z' });
      await put('BackupSession', `c${i}-2`, { invoker: { kind: 'BackupConfiguration', name: `c${i}` } }, { phase: 'Running' });
    }
    await put('BackupSession', 'c7-0', { invoker: { kind: 'BackupConfiguration', name: 'c7' } }, { phase: 'Failed', finishedAt: '2026-03-02T00:00:00Z' });
    const gets: string[] = [];
    const sessionLists: unknown[] = [];
    const counted = new Proxy(store, {
      get(target, prop) {
        if (prop === 'get') return (kind: string, ns: string, name: string) => (gets.push(`${kind}/${name}`), target.get(kind as never, ns, name));
        if (prop === 'list') return (kind: string, options?: { phases?: readonly string[] }) => (kind === 'BackupSession' && sessionLists.push(options?.phases), target.list(kind as never, options as never));
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    assert.equal(await replayUnrecordedOutcomes(counted), 1);
    assert.deepEqual(gets, ['BackupConfiguration/c7'], 'only the configuration with a later finished session is read again');
    assert.deepEqual(sessionLists, [['Succeeded', 'Failed', 'Cancelled']], 'sessions listed once, finished ones only');
    assert.equal((await store.get('BackupConfiguration', 'default', 'c7'))?.status?.lastFinishedSession, 'c7-0');
    store.close();
  });

  // The start-up backfill filtered every session for each configuration (2,000 x 6,000 at fleet
  // scale, in one block of the event loop) and read every configuration again.
  it('the start-up backfill reads finished sessions once, looks at each a bounded number of times, reads again only configurations to fill, and yields once a configuration', async () => {
    const store = new Store(':memory:');
    const put = async (kind: 'BackupConfiguration' | 'BackupSession', name: string, spec: Record<string, unknown>, status?: Record<string, unknown>) =>
      (await upsert(store, { apiVersion: 'sidestash.io/v1', kind, metadata: { name, namespace: 'default' }, spec, ...(status ? { status } : {}) }));
    const cfg = { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } } };
    const configurations = 40;
    for (let i = 0; i < configurations; i++) {
      const upgraded = i % 10 === 3;
      await put('BackupConfiguration', `c${i}`, cfg, upgraded ? { nextScheduleTime: 'N' } : { lastFinishedPhase: 'Succeeded', lastFinishedSession: `c${i}-1`, consecutiveFailures: 0 });
      await put('BackupSession', `c${i}-1`, { invoker: { kind: 'BackupConfiguration', name: `c${i}` } }, { phase: 'Succeeded', finishedAt: '2026-03-01T00:00:00Z', durationSeconds: 4 });
      await put('BackupSession', `c${i}-2`, { invoker: { kind: 'BackupConfiguration', name: `c${i}` } }, { phase: 'Failed', finishedAt: '2026-03-02T00:00:00Z' });
      await put('BackupSession', `c${i}-3`, { invoker: { kind: 'BackupConfiguration', name: `c${i}` } }, { phase: 'Running' });
    }
    // A predecessor's session (another uid under the same name) is not this configuration's history.
    await put('BackupSession', 'c3-0', { invoker: { kind: 'BackupConfiguration', name: 'c3', uid: 'an-earlier-one' } }, { phase: 'Succeeded', finishedAt: '2026-03-05T00:00:00Z' });
    const gets: string[] = [];
    const sessionLists: unknown[] = [];
    let listed = 0;
    let looks = 0;
    const counted = new Proxy(store, {
      get(target, prop) {
        if (prop === 'get') return (kind: string, ns: string, name: string) => (gets.push(`${kind}/${name}`), target.get(kind as never, ns, name));
        if (prop === 'list') {
          return async (kind: string, options?: { phases?: readonly string[] }) => {
            const items = await target.list(kind as never, options as never);
            if (kind !== 'BackupSession') return items;
            sessionLists.push(options?.phases);
            listed += items.length;
            // Every look at a session's spec is counted: filtering all sessions per configuration looks configurations x sessions times.
            return items.map((s) => new Proxy(s, { get: (o, p) => (p === 'spec' && looks++, Reflect.get(o, p)) }));
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    let pauses = 0;
    assert.equal(await backfillConfigurationStatus(counted, { pause: async () => void pauses++ }), 4);
    assert.deepEqual(gets, ['BackupConfiguration/c13', 'BackupConfiguration/c23', 'BackupConfiguration/c3', 'BackupConfiguration/c33'], 'only the configurations without an outcome are read again');
    assert.deepEqual(sessionLists, [['Succeeded', 'Failed', 'Cancelled']], 'sessions listed once, finished ones only');
    assert.equal(listed, configurations * 2 + 1);
    assert.ok(looks <= 4 * listed, `${looks} looks at ${listed} sessions: linear, not configurations x sessions (${configurations * listed})`);
    assert.equal(pauses, configurations, 'yields (when its slice is up) once a configuration');
    assert.deepEqual((await store.get('BackupConfiguration', 'default', 'c3'))?.status, { nextScheduleTime: 'N', lastFinishedPhase: 'Failed', lastFinishedSession: 'c3-2', lastDurationSeconds: 0, lastSuccessTime: '2026-03-01T00:00:00Z', consecutiveFailures: 1 }, 'c3-0 was its predecessor\'s');
    assert.equal(await backfillConfigurationStatus(counted, { pause: async () => {} }), 0, 'once');
    store.close();
  });
});
