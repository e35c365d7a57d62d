import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BinlogArchiveStatus } from '../resources/types.ts';
import { leaseDecision, statusAfterSync } from './archive-lease.ts';

const LEASE = 30_000;
const T = Date.parse('2026-12-01T12:00:00Z');
const held = (agent: string, expiresMs: number): BinlogArchiveStatus => ({ agent, leaseExpiresAt: new Date(expiresMs).toISOString() });

describe('binlog archive lease', () => {
  const table: [string, BinlogArchiveStatus | undefined, string, number, string][] = [
    ['nobody holds it', undefined, 'ns/a', T, 'take'],
    ['its holder syncs', held('ns/a', T + 10_000), 'ns/a', T, 'renew'],
    ['its holder syncs after its lease ran out', held('ns/a', T - 60_000), 'ns/a', T, 'renew'],
    ['another agent, lease running', held('ns/a', T + 10_000), 'ns/b', T, 'held'],
    ['another agent, lease just ran out (the holder may still be stopping)', held('ns/a', T - 1), 'ns/b', T, 'held'],
    ['another agent, lease ran out a whole lease ago', held('ns/a', T - LEASE), 'ns/b', T, 'take'],
    ['another agent, the lease time unreadable', { agent: 'ns/a', leaseExpiresAt: 'soon' }, 'ns/b', T, 'take'],
  ];
  for (const [name, status, agent, now, want] of table) {
    it(name, () => assert.equal(leaseDecision(status, agent, now, LEASE), want));
  }

  it("records its holder's report, counts gaps up and clears an error that went away", () => {
    const s1 = statusAfterSync(undefined, 'ns/a', undefined, T, LEASE);
    assert.deepEqual(s1, { agent: 'ns/a', leaseExpiresAt: '2026-12-01T12:00:30.000Z', updatedAt: '2026-12-01T12:00:00.000Z' });
    const s2 = statusAfterSync(s1, 'ns/a', { configuration: 'ns/c', chain: '0123456789abcdef', file: 'mysql-bin.000002', position: 900, gaps: 1, lastGap: { detectedAt: '2026-12-01T11:59:00.000Z', message: 'purged' }, error: { code: 'SIDESTASH_DATABASE_UNAVAILABLE', message: 'down' } }, T + 1000, LEASE);
    assert.deepEqual([s2.file, s2.position, s2.gaps, s2.error?.code], ['mysql-bin.000002', 900, 1, 'SIDESTASH_DATABASE_UNAVAILABLE']);
    const s3 = statusAfterSync(s2, 'ns/a', { configuration: 'ns/c', position: 1200, gaps: 2 }, T + 2000, LEASE);
    assert.deepEqual([s3.position, s3.gaps, s3.error, s3.lastGap?.message], [1200, 3, undefined, 'purged']);
  });

  it("a new holder's first sync keeps what the last one archived, not its error, and takes no report", () => {
    const before: BinlogArchiveStatus = { ...held('ns/a', T - LEASE), file: 'mysql-bin.000002', position: 900, error: { code: 'X', message: 'x' } };
    const s = statusAfterSync(before, 'ns/b', { configuration: 'ns/c', position: 5 }, T, LEASE);
    assert.deepEqual([s.agent, s.file, s.position, s.error], ['ns/b', 'mysql-bin.000002', 900, undefined]);
  });
});
