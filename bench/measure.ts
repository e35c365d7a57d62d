// Runs a shell pipeline under GNU time and returns its wall time, the CPU time of all its
// processes (user + system; a server it talks to, such as mariadbd, is not counted) and the
// peak RSS of its largest process (GNU time reports the maximum resident set it saw).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface Measurement {
  wallSeconds: number;
  /** User plus system time of the pipeline's processes. */
  cpuSeconds: number;
  peakRssMiB: number;
}

/** Measures `command` (run by sh) under /usr/bin/time; `env` is added to the environment. */
export async function measure(command: string, env: Record<string, string> = {}): Promise<Measurement> {
  const started = performance.now();
  const { stderr } = await execFileAsync('/usr/bin/time', ['-f', 'SIDESTASH_TIME %e %M %U %S', 'sh', '-c', command], {
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const m = /SIDESTASH_TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(stderr);
  if (!m) throw new Error(`no timing in output: ${stderr.slice(-2000)}`);
  return { wallSeconds, cpuSeconds: Number(m[3]) + Number(m[4]), peakRssMiB: Number(m[2]) / 1024 };
}

export function ratio(a: number, b: number): string {
  return (a / b).toFixed(2);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Several runs of one pipeline: the median wall and CPU times and the highest peak RSS. */
export function summarize(runs: readonly Measurement[]): Measurement {
  return {
    wallSeconds: median(runs.map((r) => r.wallSeconds)),
    cpuSeconds: median(runs.map((r) => r.cpuSeconds)),
    peakRssMiB: Math.max(...runs.map((r) => r.peakRssMiB)),
  };
}
