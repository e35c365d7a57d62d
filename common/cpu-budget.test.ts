import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupCpuLimit, cpuBudget, cpuMaxCpus, quotaCpus } from './cpu-budget.ts';

const files = (m: Record<string, string>) => (path: string): string | undefined => m[path];

describe('cpu budget', () => {
  it('reads cgroup v2 cpu.max', () => {
    assert.equal(cpuMaxCpus('max 100000\n'), undefined);
    assert.equal(cpuMaxCpus('100000 100000\n'), 1);
    assert.equal(cpuMaxCpus('150000 100000'), 2);
    assert.equal(cpuMaxCpus('50000 100000'), 1);
    assert.equal(cpuMaxCpus('garbage'), undefined);
    assert.equal(quotaCpus(-1, 100000), undefined);
    assert.equal(quotaCpus(400000, 0), undefined);
  });

  it('reads v2 first, then v1 in either mount', () => {
    assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '200000 100000' })), 2);
    assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '300000\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' })), 3);
    assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '-1\n', '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n' })), undefined);
    assert.equal(cgroupCpuLimit(files({})), undefined);
  });

  it('is the fewer of the cores and the limit, at least 1', () => {
    assert.equal(cpuBudget({ cores: 64, read: files({ '/sys/fs/cgroup/cpu.max': '100000 100000' }) }), 1);
    assert.equal(cpuBudget({ cores: 2, read: files({ '/sys/fs/cgroup/cpu.max': '800000 100000' }) }), 2);
    assert.equal(cpuBudget({ cores: 8, read: files({}) }), 8);
    assert.equal(cpuBudget({ cores: 0, read: files({}) }), 1);
  });
});
