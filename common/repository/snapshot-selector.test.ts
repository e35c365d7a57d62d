import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseLatest, isSessionSnapshot, parseTargetRef, previousOfConfiguration, retentionCandidates, snapshotOwnership, targetTags } from './snapshot-selector.ts';
import type { SelectableSnapshot, SnapshotOwnership, TargetRef } from './snapshot-selector.ts';

const A: TargetRef = { namespace: 'shop', name: 'db' };
const own = (id: string, time: string, ns = 'shop', name = 'db', invoker = 'nightly'): SelectableSnapshot => ({ id, time, hostname: name, tags: [`invoker=${invoker}`, `session=${invoker}-1`, ...targetTags({ namespace: ns, name })] });

describe('snapshot selector', () => {
  const table: [string, Pick<SelectableSnapshot, 'hostname' | 'tags'>, SnapshotOwnership][] = [
    ['written for this target', { hostname: 'db', tags: ['invoker=n', 'session=s', 'namespace=shop', 'target=shop/db'] }, 'target'],
    ['same AppBinding name, other namespace', { hostname: 'db', tags: ['invoker=n', 'session=s', 'namespace=crm', 'target=crm/db'] }, 'other'],
    ['other AppBinding, same namespace', { hostname: 'db2', tags: ['namespace=shop', 'target=shop/db2'] }, 'other'],
    ['target tag right, hostname wrong', { hostname: 'db2', tags: ['namespace=shop', 'target=shop/db'] }, 'other'],
    ['two target tags, one foreign', { hostname: 'db', tags: ['target=shop/db', 'target=crm/db'] }, 'other'],
    ['namespace tag contradicts the target tag', { hostname: 'db', tags: ['namespace=crm', 'target=shop/db'] }, 'other'],
    ['target tag without namespace tag', { hostname: 'db', tags: ['target=shop/db'] }, 'target'],
    ['legacy: hostname and session/invoker tags only', { hostname: 'db', tags: ['invoker=n', 'session=s'] }, 'legacy'],
    ['legacy: invoker tag only', { hostname: 'db', tags: ['invoker=n'] }, 'legacy'],
    ['legacy of another AppBinding', { hostname: 'db2', tags: ['invoker=n', 'session=s'] }, 'other'],
    ['no tags at all (restic, Stash host-0)', { hostname: 'db', tags: null }, 'other'],
    ['user-tagged snapshot of that hostname', { hostname: 'db', tags: ['manual'] }, 'other'],
    ['no hostname', { tags: ['target=shop/db'] }, 'other'],
  ];
  for (const [name, snap, want] of table) {
    it(name, () => assert.equal(snapshotOwnership(snap, A), want));
  }

  it("recognises a session's own snapshot", () => {
    const s = own('x', '2026-03-01T00:00:00Z');
    assert.equal(isSessionSnapshot(s, A, 'nightly-1'), true);
    assert.equal(isSessionSnapshot(s, A, 'nightly-2'), false);
    assert.equal(isSessionSnapshot(s, { namespace: 'crm', name: 'db' }, 'nightly-1'), false);
    assert.equal(isSessionSnapshot({ hostname: 'db', tags: ['invoker=nightly', 'session=nightly-1'] }, A, 'nightly-1'), false, 'legacy snapshots cannot prove their namespace');
  });

  it('parses targets', () => {
    assert.deepEqual(parseTargetRef('shop/db'), A);
    for (const bad of ['db', 'a/b/c', '/db', 'shop/']) assert.equal(parseTargetRef(bad), undefined, bad);
  });

  const snaps = [
    own('a1', '2026-03-01T00:00:00Z'),
    own('b1', '2026-03-02T00:00:00Z', 'crm'),
    { id: 'l1', time: '2026-03-03T00:00:00Z', hostname: 'db', tags: ['invoker=nightly', 'session=x'] },
    own('a2', '2026-03-02T12:00:00+02:00', 'shop', 'db', 'hourly'),
    own('a3', '2026-03-02T11:00:00Z'),
    own('b2', '2026-03-04T00:00:00Z', 'crm'),
  ];

  it('latest is the newest of this namespace and target, never another namespace nor a legacy snapshot', () => {
    const single = snaps.filter((x) => x.id !== 'a2');
    const { latest, legacy, ambiguous } = chooseLatest(single, A);
    assert.equal(latest?.id, 'a3');
    assert.equal(ambiguous, undefined);
    assert.deepEqual(legacy.map((x) => x.id), ['l1']);
    assert.equal(chooseLatest(single, { namespace: 'crm', name: 'db' }).latest?.id, 'b2');
    assert.equal(chooseLatest(single, { namespace: 'other', name: 'db' }).latest, undefined);
  });

  it('latest is not chosen when two configurations back up the target (a schema-only dump must not pass for the data)', () => {
    const { latest, ambiguous } = chooseLatest(snaps, A);
    assert.equal(latest, undefined);
    assert.deepEqual(ambiguous?.map((c) => [c.invoker, c.snapshot.id]), [['nightly', 'a3'], ['hourly', 'a2']]);
  });

  it("retention considers only this target's snapshots of the same configuration", () => {
    assert.deepEqual(retentionCandidates(snaps, A, 'nightly').map((x) => x.id).sort(), ['a1', 'a3']);
    assert.deepEqual(retentionCandidates(snaps, A, 'hourly').map((x) => x.id), ['a2']);
    assert.deepEqual(retentionCandidates(snaps, { namespace: 'crm', name: 'db' }, 'nightly').map((x) => x.id).sort(), ['b1', 'b2']);
  });

  it('the previous dump is the newest of the same configuration and target', () => {
    assert.equal(previousOfConfiguration(snaps, A, 'nightly')?.id, 'a3');
    assert.equal(previousOfConfiguration(snaps, A, 'nightly', 'a3')?.id, 'a1');
    assert.equal(previousOfConfiguration(snaps, A, 'hourly')?.id, 'a2');
    assert.equal(previousOfConfiguration(snaps, A, 'weekly'), undefined);
  });
});
