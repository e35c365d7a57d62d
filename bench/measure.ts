// Runs a shell pipeline under GNU time and returns its wall time and the peak RSS of its
// largest process (GNU time reports the maximum resident set of the command it runs).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface Measurement {
  wallSeconds: number;
  peakRssMiB: number;
}

/** Measures `command` (run by sh) under /usr/bin/time; `env` is added to the environment. */
export async function measure(command: string, env: Record<string, string> = {}): Promise<Measurement> {
  const started = performance.now();
  const { stderr } = await execFileAsync('/usr/bin/time', ['-f', 'SIDESTASH_TIME %e %M', 'sh', '-c', command], {
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const m = /SIDESTASH_TIME ([\d.]+) (\d+)/.exec(stderr);
  if (!m) throw new Error(`no timing in output: ${stderr.slice(-2000)}`);
  return { wallSeconds, peakRssMiB: Number(m[2]) / 1024 };
}

export function ratio(a: number, b: number): string {
  return (a / b).toFixed(2);
}

/** Several runs of one pipeline: the median wall time and the highest peak RSS. */
export function summarize(runs: readonly Measurement[]): Measurement {
  const walls = runs.map((r) => r.wallSeconds).sort((a, b) => a - b);
  const mid = walls.length >> 1;
  const median = walls.length % 2 === 1 ? walls[mid]! : (walls[mid - 1]! + walls[mid]!) / 2;
  return { wallSeconds: median, peakRssMiB: Math.max(...runs.map((r) => r.peakRssMiB)) };
}
