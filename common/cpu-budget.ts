// How many CPUs this process may use: the fewer of the cores it may run on (Node's
// availableParallelism: its affinity mask) and its cgroup's CPU quota, rounded up, at least 1.
// A container limited to 1 CPU (Kubernetes limits.cpu: 1) on a 64-core node has 64 cores in
// its affinity mask but may use one: sizing connection pools or workers by the cores alone
// would have it throttled (and the database it shares the node with crowded).
// cgroup v2: cpu.max ("max 100000" or "<quota> <period>"); v1: cpu.cfs_quota_us (-1: none) and
// cpu.cfs_period_us. Read where a container sees its own cgroup (cgroup namespaces, the default
// with cgroup v2 and for Kubernetes pods).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** CPUs a cgroup quota allows (quota / period, rounded up); undefined when unlimited or unreadable. */
export function quotaCpus(quotaUs: number, periodUs: number): number | undefined {
  if (!Number.isFinite(quotaUs) || !Number.isFinite(periodUs) || quotaUs <= 0 || periodUs <= 0) return undefined;
  return Math.max(1, Math.ceil(quotaUs / periodUs));
}

/** cgroup v2's cpu.max text -> CPUs; undefined for "max" or anything else. */
export function cpuMaxCpus(text: string): number | undefined {
  const m = /^\s*(max|\d+)\s+(\d+)\s*$/.exec(text);
  if (!m || m[1] === 'max') return undefined;
  return quotaCpus(Number(m[1]), Number(m[2]));
}

type Read = (path: string) => string | undefined;
const readText: Read = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** The cgroup's CPU limit, where one is set and readable. */
export function cgroupCpuLimit(read: Read = readText): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max');
  if (v2 !== undefined) return cpuMaxCpus(v2);
  for (const dir of ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct']) {
    const quota = read(`${dir}/cpu.cfs_quota_us`);
    const period = read(`${dir}/cpu.cfs_period_us`);
    if (quota !== undefined && period !== undefined) return quotaCpus(Number(quota.trim()), Number(period.trim()));
  }
  return undefined;
}

export function cpuBudget(options: { cores?: number; read?: Read } = {}): number {
  const cores = options.cores ?? availableParallelism();
  const limit = cgroupCpuLimit(options.read);
  return Math.max(1, limit === undefined ? cores : Math.min(cores, limit));
}
