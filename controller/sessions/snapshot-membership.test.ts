import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { snapshotBelongsToTarget } from './snapshot-membership.ts';

describe("the controller's check of a restore of latest", () => {
  const ownTags = ['invoker=cfg', 'session=cfg-1', 'namespace=shop', 'target=shop/db'];
  const stash = { hostname: 'host-0', tags: null, paths: ['/dumpfile.sql'] };
  const table: [string, { hostname: string; tags: string[] | null; paths: string[] }, string | undefined, boolean][] = [
    ["the target's own snapshot", { hostname: 'db', tags: ownTags, paths: ['/dumpfile.sql'] }, undefined, true],
    ['a Stash snapshot, no sourceHost', stash, undefined, false],
    ['a Stash snapshot of the sourceHost', stash, 'host-0', true],
    ['a Stash snapshot of another host', { ...stash, hostname: 'host-1' }, 'host-0', false],
    ["the target's own snapshot, with sourceHost", { hostname: 'db', tags: ownTags, paths: ['/dumpfile.sql'] }, 'db', false],
    ['a sidestash snapshot with hostname host-0, with sourceHost host-0', { hostname: 'host-0', tags: ['invoker=cfg', 'session=cfg-1', 'namespace=shop', 'target=shop/host-0'], paths: ['/dumpfile.sql'] }, 'host-0', false],
    ['a file backup of the sourceHost', { ...stash, paths: ['/var/lib/mysql'] }, 'host-0', false],
  ];
  for (const [name, snap, sourceHost, want] of table) {
    it(name, () => assert.equal(snapshotBelongsToTarget(snap, { snapshotHost: 'db', target: 'shop/db', sourceHost }), want));
  }
});
