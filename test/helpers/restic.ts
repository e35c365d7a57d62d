// The real restic CLI, as the independent checker of our repositories.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface ResticResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** restic 0.19.1, built by scripts/setup.sh next to Debian's 0.14 (`restic` on PATH). */
export const RESTIC_0_19 = join(import.meta.dirname, '..', '..', '.tools', 'bin', 'restic-0.19.1');

/** Runs restic on a local repository. With `stdin`, that stream is piped in. */
export async function restic(repo: string, password: string, args: string[], stdin?: Readable, env: Record<string, string> = {}): Promise<ResticResult> {
  return runRestic('restic', repo, password, args, stdin, env);
}

/** Runs the given restic binary on a local repository. */
/** restic run through a wrapper command (e.g. `unshare --pid --fork --mount-proc`). */
export async function resticIn(wrapper: readonly string[], repo: string, password: string, args: string[], stdin?: Readable, env: Record<string, string> = {}): Promise<ResticResult> {
  return runRestic([...wrapper, 'restic'], repo, password, args, stdin, env);
}

/** `bin` is the program, or a wrapper command line ending in it. */
export async function runRestic(bin: string | readonly string[], repo: string, password: string, args: string[], stdin?: Readable, env: Record<string, string> = {}): Promise<ResticResult> {
  const [program, ...before] = typeof bin === 'string' ? [bin] : bin;
  const child = spawn(program!, [...before, '-r', repo, '--no-cache', ...args], {
    env: { ...process.env, ...env, RESTIC_PASSWORD: password },
    stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? -1));
  });
  if (stdin) await pipeline(stdin, child.stdin!);
  return { code: await exited, stdout, stderr };
}

/** restic dump of one file, hashed as it streams (never held in memory). */
export async function resticDumpSha256(repo: string, password: string, snapshot: string, path: string): Promise<{ sha256: string; bytes: number; code: number; stderr: string }> {
  const child = spawn('restic', ['-r', repo, '--no-cache', 'dump', snapshot, path], {
    env: { ...process.env, RESTIC_PASSWORD: password },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const { sha256, bytes } = await sha256Of(child.stdout);
  return { sha256, bytes, code: await exited, stderr };
}

export async function sha256Of(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  await pipeline(stream, async function (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      hash.update(chunk);
      bytes += chunk.length;
    }
  });
  return { sha256: hash.digest('hex'), bytes };
}
