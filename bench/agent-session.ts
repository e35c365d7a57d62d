// The agent's session runners (agent/backup-runner.ts, agent/restore-runner.ts) as its image
// runs them: plain JavaScript built by tsc (bench/tsconfig.json adds bench/run-session.ts to the
// image's build), in the image's glibc and V8 settings, one session per process, so that a
// benchmark measures a session's wall time, CPU time and peak RSS alone.
import { execFile } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SessionAssignment, SessionResult } from '../common/protocol.ts';
import { measure } from './measure.ts';
import type { Measurement } from './measure.ts';

/** The agent's environment in its image (the Dockerfile's ENV line): glibc malloc and V8 settings. */
export const AGENT_IMAGE_ENV = { MALLOC_MMAP_THRESHOLD_: '262144', MALLOC_ARENA_MAX: '2', NODE_OPTIONS: '--max-semi-space-size=1' };

export interface SessionRun {
  /** The session's process (and the clients it started) under GNU time. */
  m: Measurement;
  r: SessionResult;
  /** The agent process's own peak RSS (its clients, such as `mariadb`, not counted). */
  agentPeakRssMiB: number;
}

/**
 * Compiles the agent (of the checkout at `root`, default this one) into `dir` and returns a function that runs one session there; a session
 * that fails throws, unless `mayFail` (then its Failed result is returned).
 */
export async function buildAgent(dir: string, root = join(import.meta.dirname, '..')): Promise<(a: SessionAssignment, options?: { mayFail?: boolean }) => Promise<SessionRun>> {
  const built = join(dir, 'app', 'dist');
  await mkdir(join(dir, 'app'), { recursive: true });
  await promisify(execFile)(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(root, 'bench', 'tsconfig.json'), '--outDir', built]);
  await symlink(join(root, 'node_modules'), join(dir, 'app', 'node_modules'));
  return async (a, { mayFail = false } = {}) => {
    const file = join(dir, `${a.name}.json`);
    await writeFile(file, JSON.stringify(a));
    const out = join(dir, `${a.name}.out`);
    // SIDESTASH_BENCH_AGENT_NODE_ARGS: options for the agent's node, e.g. --cpu-prof --cpu-prof-dir=DIR for a profile.
    const nodeArgs = process.env.SIDESTASH_BENCH_AGENT_NODE_ARGS ?? '';
    const m = await measure(`${process.execPath} ${nodeArgs} ${join(built, 'bench', 'run-session.js')} ${file} > ${out}`, AGENT_IMAGE_ENV);
    // The result is the last line (node options such as --trace-gc print before it).
    const { result, peakRssKiB } = JSON.parse((await readFile(out, 'utf8')).trim().split('\n').pop()!) as { result: SessionResult; peakRssKiB: number };
    if (result.phase !== 'Succeeded' && !mayFail) throw new Error(`${a.kind} ${a.name} ${result.phase}: ${result.error?.code}: ${result.error?.message}`);
    return { m, r: result, agentPeakRssMiB: peakRssKiB / 1024 };
  };
}

/** The agent's start-up alone, in the build buildAgent(dir) made: Node.js and loading the session runners' modules. */
export function measureAgentStartup(dir: string): Promise<Measurement> {
  const built = join(dir, 'app', 'dist', 'agent');
  const imports = ['backup-runner.js', 'restore-runner.js'].map((f) => `await import(${JSON.stringify(join(built, f))});`).join(' ');
  return measure(`${process.execPath} --input-type=module -e '${imports}'`, AGENT_IMAGE_ENV);
}
