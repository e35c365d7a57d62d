import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STALE_LOCK_MS, currentPidNamespace, isStaleLock, lockHostname, processExists } from './lock-staleness.ts';
import type { LockHost, LockJson } from './lock-staleness.ts';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const NS = '0f6b1c1e-5a53-4a50-9a3d-2b8c0e1d2f3a/pid:[4026531836]';
const here: LockHost = { hostname: 'mariadb-0', pidNamespace: NS, processExists: (pid) => pid === 7 };

function lock(ageMs: number, fields: Partial<LockJson> = {}): LockJson {
  return { time: new Date(NOW - ageMs).toISOString(), exclusive: false, hostname: 'mariadb-0', username: 'mysql', pid: 99, ...fields };
}

describe('lock staleness (restic\'s 30 minutes; the PID only within our own PID namespace)', () => {
  const cases: [string, LockJson, LockHost, boolean][] = [
    ['fresh, same host, dead pid, no namespace (restic\'s lock, or another container of the pod)', lock(1000), here, false],
    ['fresh, same host, dead pid, another PID namespace', lock(1000, { pid_namespace: 'x/pid:[1]' }), here, false],
    ['fresh, same host, dead pid, our PID namespace', lock(1000, { pid_namespace: NS }), here, true],
    ['fresh, same host, live pid, our PID namespace', lock(1000, { pid: 7, pid_namespace: NS }), here, false],
    ['fresh, as sidestash writes it here (host/pid ns), dead pid', lock(1000, { hostname: 'mariadb-0/pid:[4026531836]', pid_namespace: NS }), here, true],
    ['fresh, as sidestash writes it in another PID namespace, dead pid', lock(1000, { hostname: 'mariadb-0/pid:[1]', pid_namespace: 'x/pid:[1]' }), here, false],
    ['fresh, other host, dead pid, same namespace string', lock(1000, { hostname: 'mariadb-1', pid_namespace: NS }), here, false],
    ['fresh, our namespace, but we cannot read ours', lock(1000, { pid_namespace: NS }), { ...here, pidNamespace: undefined }, false],
    ['exactly 30 minutes old', lock(STALE_LOCK_MS), here, false],
    ['31 minutes old, any host', lock(31 * 60_000, { hostname: 'elsewhere', pid: 7 }), here, true],
    ['31 minutes old, same host, live pid', lock(31 * 60_000, { pid: 7, pid_namespace: NS }), here, true],
    ['time in the future (clock skew)', lock(-3600_000), here, false],
    ['unparsable time', lock(0, { time: 'yesterday' }), here, false],
    ['restic\'s own time format with offset, 31 minutes old', lock(0, { time: '2026-12-01T12:29:00.123456789+01:00' }), here, true],
  ];
  for (const [name, l, host, stale] of cases) {
    it(`${name}: ${stale ? 'stale' : 'not stale'}`, () => {
      assert.equal(isStaleLock(l, host, NOW), stale);
    });
  }

  it('lockHostname: the host name and the PID namespace, or the bare host name when unknown', () => {
    assert.equal(lockHostname(here), 'mariadb-0/pid:[4026531836]');
    assert.equal(lockHostname({ hostname: 'mariadb-0', pidNamespace: undefined }), 'mariadb-0');
  });

  it('processExists: this process lives, a pid beyond pid_max does not, 0 and negatives never count as dead', () => {
    assert.equal(processExists(process.pid), true);
    assert.equal(processExists(2 ** 22 + 1), false);
    assert.equal(processExists(0), true);
    assert.equal(processExists(-1), true);
  });

  it('reads this process\'s boot id and PID namespace on Linux', { skip: process.platform !== 'linux' }, () => {
    assert.match(currentPidNamespace() ?? '', /^[0-9a-f-]+\/pid:\[\d+\]$/);
  });
});
