// The controller process as the kernel sees it (peak RSS, CPU time) and, from a --cpu-prof
// profile, the functions it spent its time in.
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';

/** VmHWM (peak resident set) and VmRSS of a process, in MiB. */
export function memoryMiB(pid: number): { peakRssMiB: number; rssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakRssMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
}

/**
 * Where the resident set is, from /proc/<pid>/smaps, in MiB: the brk heap (glibc malloc's main
 * arena), anonymous mappings (V8's heap pages, malloc's other arenas and its mmapped blocks,
 * thread stacks) and file-backed ones (the node binary, libraries).
 */
export function rssByMapping(pid: number): { mallocBrkHeapMiB: number; anonymousMiB: number; fileMiB: number } {
  const out = { mallocBrkHeapMiB: 0, anonymousMiB: 0, fileMiB: 0 };
  let kind: keyof typeof out = 'anonymousMiB';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1]!.trim();
      kind = name === '[heap]' ? 'mallocBrkHeapMiB' : name === '' || name.startsWith('[') ? 'anonymousMiB' : 'fileMiB';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind] += Number(rss[1]) / 1024;
  }
  return out;
}

/** The process's open sockets (file descriptors that are sockets: its connections and listeners). */
export function openSockets(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/**
 * Starts the peak resident set (VmHWM) again from the current RSS (clear_refs "5", Linux 4.0+),
 * so that the load's peak is not the set-up's; false where the kernel does not allow it.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** User plus system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface HotFunction {
  name: string;
  selfPercent: number;
  /** Self time plus the time of everything it called. */
  totalPercent: number;
}

/** The functions with the most self time in a V8 .cpuprofile (idle and GC listed as such). */
export function hotFunctions(profileText: string, root: string, top = 12): { self: HotFunction[]; total: HotFunction[]; sampledSeconds: number } {
  const p = JSON.parse(profileText) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
  const label = (n: ProfileNode): string => {
    const f = n.callFrame;
    const where = f.url ? `${relative(root, f.url.replace(/^file:\/\//, ''))}:${f.lineNumber + 1}` : '';
    return `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
  };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfCount = new Map<number, number>();
  for (const s of p.samples) selfCount.set(s, (selfCount.get(s) ?? 0) + 1);
  // Inclusive counts per function label, counting a label once per sample even when it recurses.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const [id, count] of selfCount) {
    const node = byId.get(id)!;
    self.set(label(node), (self.get(label(node)) ?? 0) + count);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!);
      if (seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + count);
    }
  }
  const n = p.samples.length || 1;
  const rank = (m: Map<string, number>, skip: (name: string) => boolean): HotFunction[] =>
    [...m]
      .filter(([name]) => !skip(name))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, c]) => ({ name, selfPercent: (100 * (self.get(name) ?? 0)) / n, totalPercent: (100 * (total.get(name) ?? 0)) / n }));
  const wrappers = (name: string): boolean => /^\((root|program|idle)\)/.test(name) || name.startsWith('processTicksAndRejections') || name.startsWith('(anonymous) ') && name.includes('node:');
  return { self: rank(self, () => false), total: rank(total, (name) => wrappers(name) || name.startsWith('(anonymous)')), sampledSeconds: (p.endTime - p.startTime) / 1e6 };
}
