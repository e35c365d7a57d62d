import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { relativeTime } from './relative-time.ts';

const NOW = Date.parse('2026-06-10T12:00:00Z');
const at = (deltaS: number): string => new Date(NOW + deltaS * 1000).toISOString();

describe('relativeTime', () => {
  const table: [string, string | undefined, string][] = [
    ['absent', undefined, '-'],
    ['unparseable', 'yesterday', '-'],
    ['within a second', at(0.4), 'now'],
    ['45 s ago', at(-45), '45s ago'],
    ['119 s ago stays seconds', at(-119), '119s ago'],
    ['2 minutes ago', at(-120), '2m ago'],
    ['3 hours ago', at(-3 * 3600), '3h ago'],
    ['47 hours ago stays hours', at(-47 * 3600), '47h ago'],
    ['9 days ago', at(-9 * 86400), '9d ago'],
    ['in 26 minutes', at(26 * 60), 'in 26m'],
    ['in 30 seconds', at(30), 'in 30s'],
    ['in 2 days', at(2 * 86400), 'in 2d'],
  ];
  for (const [name, iso, want] of table) it(name, () => assert.equal(relativeTime(iso, NOW), want));
});
