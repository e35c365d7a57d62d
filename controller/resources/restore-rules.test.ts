import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateResource } from './validate.ts';

const restore = (spec: Record<string, unknown>): unknown => ({
  apiVersion: 'sidestash.io/v1',
  kind: 'RestoreSession',
  metadata: { name: 'r', namespace: 'shop' },
  spec: { repository: { name: 'repo' }, target: { ref: { kind: 'AppBinding', name: 'db' } }, ...spec },
});

describe('RestoreSession sourceHost', () => {
  const table: [string, Record<string, unknown>, RegExp | undefined][] = [
    ['Stash default host with latest', { sourceHost: 'host-0', snapshot: 'latest' }, undefined],
    ['Stash default host, snapshot omitted (latest)', { sourceHost: 'host-0' }, undefined],
    ['an alias with an ordinal', { sourceHost: 'mydb-2' }, undefined],
    ['a node name', { sourceHost: 'node-a.example.com' }, undefined],
    ['with a snapshot id', { sourceHost: 'host-0', snapshot: 'abcdef12' }, /goes with snapshot "latest".*remove one of the two/],
    ['empty', { sourceHost: '' }, /spec\.sourceHost/],
    ['with a space', { sourceHost: 'host 0' }, /spec\.sourceHost/],
    ['with a newline', { sourceHost: 'host-0\nx' }, /spec\.sourceHost/],
    ['starting with a dash (an option to restic)', { sourceHost: '--host' }, /spec\.sourceHost/],
    ['too long', { sourceHost: 'h'.repeat(254) }, /spec\.sourceHost/],
    ['not a string', { sourceHost: 0 }, /spec\.sourceHost/],
  ];
  for (const [name, spec, want] of table) {
    it(name, () => {
      const errors = validateResource(restore(spec));
      if (!want) assert.deepEqual(errors, []);
      else assert.match(errors.map((e) => `${e.field}: ${e.message}`).join('\n'), want);
    });
  }
});
