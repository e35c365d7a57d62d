import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseLatest, chooseLatestOfSourceHost, isSessionSnapshot, isSourceHostSnapshot, sourceHostsOf, parseTargetRef, previousOfConfiguration, retentionCandidates, snapshotOwnership, targetTags } from './snapshot-selector.ts';
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

  it("latest is never a binlog archive of the target (a newer binlog file is not a dump)", () => {
    const single = snaps.filter((x) => x.id !== 'a2');
    const binlog = { id: 'bl', time: '2026-03-05T00:00:00Z', hostname: 'db', tags: ['sidestash-binlog', ...targetTags(A), 'binlog-chain=0123456789abcdef', 'binlog-file=mysql-bin.000001', 'binlog-server-id=1', 'binlog-end=4'] };
    assert.equal(snapshotOwnership(binlog, A), 'target');
    const { latest, ambiguous } = chooseLatest([...single, binlog], A);
    assert.equal(latest?.id, 'a3');
    assert.equal(ambiguous, undefined);
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

describe('source host (snapshots Stash wrote)', () => {
  const stash = (id: string, time: string, hostname = 'host-0', extra: Partial<SelectableSnapshot> = {}): SelectableSnapshot => ({ id, time, hostname, tags: null, paths: ['/dumpfile.sql'], ...extra });
  const table: [string, SelectableSnapshot, boolean][] = [
    ['Stash: host-0, /dumpfile.sql, no tags', stash('s', 't'), true],
    ['Stash with an empty tag list', stash('s', 't', 'host-0', { tags: [] }), true],
    ['Stash with a user tag', stash('s', 't', 'host-0', { tags: ['manual'] }), true],
    ['other host', stash('s', 't', 'host-1'), false],
    ['no hostname', { id: 's', time: 't', paths: ['/dumpfile.sql'] }, false],
    ['other file', stash('s', 't', 'host-0', { paths: ['/stdin'] }), false],
    ['two paths', stash('s', 't', 'host-0', { paths: ['/dumpfile.sql', '/etc'] }), false],
    ['no paths', stash('s', 't', 'host-0', { paths: [] }), false],
    ["sidestash's own (target tags), hostname host-0", stash('s', 't', 'host-0', { tags: ['invoker=n', 'session=s', 'namespace=shop', 'target=shop/host-0'] }), false],
    ['sidestash legacy (session/invoker only)', stash('s', 't', 'host-0', { tags: ['invoker=n', 'session=s'] }), false],
    ['only a session-uid tag', stash('s', 't', 'host-0', { tags: ['session-uid=1'] }), false],
    ['only the shrink mark', stash('s', 't', 'host-0', { tags: ['sidestash.io/suspicious-shrink'] }), false],
    ['only a namespace tag', stash('s', 't', 'host-0', { tags: ['namespace=shop'] }), false],
  ];
  for (const [name, snap, want] of table) {
    it(name, () => assert.equal(isSourceHostSnapshot(snap, 'host-0'), want));
  }

  const repo = [
    stash('h1', '2026-03-01T00:00:00Z'),
    stash('h2', '2026-03-02T00:00:00Z'),
    stash('x1', '2026-03-05T00:00:00Z', 'app-1'),
    // sidestash backing up on (and another target) in the same repository, newer than Stash's
    own('a1', '2026-03-03T00:00:00Z', 'shop', 'host-0'),
    own('b1', '2026-03-04T00:00:00Z', 'crm', 'db'),
    stash('h3', '2026-03-02T12:00:00+02:00'), // 10:00Z: newer than h2, listed out of order
  ];

  it("latest of a source host is its newest Stash dump, never sidestash's newer snapshots", () => {
    assert.equal(chooseLatestOfSourceHost(repo, 'host-0')?.id, 'h3');
    assert.equal(chooseLatestOfSourceHost(repo, 'app-1')?.id, 'x1');
    assert.equal(chooseLatestOfSourceHost(repo, 'db'), undefined);
    assert.equal(chooseLatestOfSourceHost([], 'host-0'), undefined);
  });

  it("a source host's snapshots are nobody's target: latest of a target never picks them", () => {
    assert.equal(chooseLatest(repo, { namespace: 'shop', name: 'host-0' }).latest?.id, 'a1');
    assert.equal(chooseLatest([stash('h1', '2026-03-01T00:00:00Z')], { namespace: 'shop', name: 'host-0' }).latest, undefined);
  });

  it('lists the source hosts found, newest first, with counts', () => {
    assert.deepEqual(sourceHostsOf(repo).map((h) => [h.host, h.count, h.newest.id]), [['app-1', 1, 'x1'], ['host-0', 3, 'h3']]);
    assert.deepEqual(sourceHostsOf([own('a1', '2026-03-03T00:00:00Z')]), []);
  });
});
