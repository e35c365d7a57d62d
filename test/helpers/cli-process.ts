// The real CLI as a person runs it: a child process with pipes (or, for the terminal cases, a
// pseudo-terminal through util-linux's `script`), standard input fed from a string, and an
// environment without the developer's storage, restic or sidestash variables.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const CLI = join(import.meta.dirname, '..', '..', 'bin', 'sidestash.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** process.env less AWS_*, RESTIC_* and SIDESTASH_* (SIDESTASH_TEST_* stays): tests set what they use. */
export function cleanEnv(env: Record<string, string> = {}): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || (/^(AWS_|RESTIC_|SIDESTASH_)/.test(k) && !k.startsWith('SIDESTASH_TEST_'))) continue;
    base[k] = v;
  }
  return { ...base, ...env };
}

export function runCliProcess(args: string[], options: { env?: Record<string, string>; input?: string | Buffer } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(options.env), stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

/** Runs `sidestash controller` until it exits (killed after 20 s): for configurations it must refuse at start. */
export async function runControllerToExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'controller'], { env: cleanEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stderr };
}

/**
 * The command line that runs the CLI in this runtime, for a shell or `script` (spawn of
 * process.execPath is translated by Deno itself; a command line in a shell is not).
 */
export function cliCommandLine(): string[] {
  const deno = (globalThis as { Deno?: unknown }).Deno !== undefined;
  return deno ? [process.execPath, 'run', '-A', '--unstable-bare-node-builtins', '--unstable-detect-cjs', CLI] : [process.execPath, CLI];
}

/** A shell-quoted word. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The CLI on a pseudo-terminal (`script -qec CMD /dev/null`): its stdout and stderr are both the
 * terminal, so `output` is what a person sees (with the terminal's \r\n line ends).
 */
export function runCliOnTerminal(args: string[], options: { env?: Record<string, string> } = {}): Promise<{ code: number; output: string }> {
  const cmd = [...cliCommandLine(), ...args].map(shellQuote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, output }));
  });
}
