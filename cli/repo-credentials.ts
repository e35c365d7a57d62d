// Repository location and password for `sidestash repo`, resolved exactly as restic does
// (cmd/restic/global.go, internal/global/global.go): --repo or RESTIC_REPOSITORY, or
// --repository-file / RESTIC_REPOSITORY_FILE (not both); the password from
// --password-command / RESTIC_PASSWORD_COMMAND (split like restic's SplitShellStrings, run
// without a shell, its output trimmed), or --password-file / RESTIC_PASSWORD_FILE (a UTF-8 or
// UTF-16 byte order mark removed, then trimmed), or RESTIC_PASSWORD when non-empty. Trimming
// is Go's strings.TrimSpace: Unicode white space at both ends, not the password's inside.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { ErrorCodes, SidestashError } from '../common/errors.ts';

/** The characters Go's unicode.IsSpace accepts (strings.TrimSpace trims them). */
const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const GO_TRIM = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, 'gu');
const GO_SPACE_CHAR = new RegExp(`^[${GO_SPACE}]$`, 'u');

export function goTrimSpace(s: string): string {
  return s.replace(GO_TRIM, '');
}

/** restic's textfile.Decode: strips a UTF-8 BOM; UTF-16 (with BOM) is converted to UTF-8. */
export function decodeTextFile(bytes: Uint8Array): string {
  const b = Buffer.from(bytes);
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return b.subarray(3).toString('utf8');
  if (b[0] === 0xff && b[1] === 0xfe) return b.subarray(2).toString('utf16le');
  if (b[0] === 0xfe && b[1] === 0xff) {
    const body = Buffer.from(b.subarray(2));
    body.swap16();
    return body.toString('utf16le');
  }
  return b.toString('utf8');
}

/** restic's backend.SplitShellStrings: quotes group, a backslash outside quotes separates. */
export function splitShellStrings(data: string): string[] {
  const out: string[] = [];
  let quote = '';
  let last = '';
  let field: string | undefined;
  const isSplit = (c: string): boolean => {
    if (last !== '\\') {
      if (quote && c === quote) {
        quote = '';
        return true;
      }
      if (!quote && (c === '"' || c === "'")) {
        quote = c;
        return true;
      }
    }
    last = c;
    if (quote) return false;
    return c === '\\' || GO_SPACE_CHAR.test(c);
  };
  for (const c of data) {
    if (isSplit(c)) {
      if (field !== undefined) out.push(field);
      field = undefined;
    } else {
      field = (field ?? '') + c;
    }
  }
  if (field !== undefined) out.push(field);
  if (quote === "'") throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'password command: single-quoted string not terminated');
  if (quote === '"') throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'password command: double-quoted string not terminated');
  if (out.length === 0) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'password command: command string is empty');
  return out;
}

async function readTextFile(path: string, what: string): Promise<string> {
  try {
    return decodeTextFile(await readFile(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, code === 'ENOENT' ? `${what} ${path} does not exist` : `${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Runs the password command (no shell); stderr passes through, as restic's does. */
async function runPasswordCommand(command: string, signal?: AbortSignal): Promise<string> {
  const [program, ...args] = splitShellStrings(command);
  const child = spawn(program!, args, { stdio: ['ignore', 'pipe', 'inherit'], ...(signal ? { signal } : {}) });
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => chunks.push(c));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  }).catch((err: unknown) => {
    throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `password command ${JSON.stringify(program)} could not run: ${(err as Error).message}`, { cause: err });
  });
  if (code !== 0) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `password command ${JSON.stringify(program)} exited with code ${code}`);
  return goTrimSpace(Buffer.concat(chunks).toString('utf8'));
}

export interface CredentialFlags {
  repo?: string | undefined;
  repositoryFile?: string | undefined;
  passwordFile?: string | undefined;
  passwordCommand?: string | undefined;
}

type Env = Record<string, string | undefined>;

export async function resolveRepository(flags: CredentialFlags, env: Env = process.env): Promise<string> {
  const repo = flags.repo ?? (env.RESTIC_REPOSITORY || undefined);
  const file = flags.repositoryFile ?? (env.RESTIC_REPOSITORY_FILE || undefined);
  if (repo && file) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'options --repo and --repository-file (or RESTIC_REPOSITORY and RESTIC_REPOSITORY_FILE) are mutually exclusive');
  const location = file ? goTrimSpace(await readTextFile(file, 'repository file')) : repo;
  if (!location) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'no repository: set --repo, --repository-file, RESTIC_REPOSITORY or RESTIC_REPOSITORY_FILE');
  return location;
}

export async function resolvePassword(flags: CredentialFlags, env: Env = process.env, signal?: AbortSignal): Promise<string> {
  const file = flags.passwordFile ?? (env.RESTIC_PASSWORD_FILE || undefined);
  const command = flags.passwordCommand ?? (env.RESTIC_PASSWORD_COMMAND || undefined);
  if (file && command) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'password file and password command are mutually exclusive');
  let password: string | undefined;
  if (command) password = await runPasswordCommand(command, signal);
  else if (file) password = goTrimSpace(await readTextFile(file, 'password file'));
  else if (env.RESTIC_PASSWORD) password = env.RESTIC_PASSWORD;
  if (!password) {
    throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'no password: set --password-file, --password-command, RESTIC_PASSWORD_FILE, RESTIC_PASSWORD_COMMAND or RESTIC_PASSWORD (an empty password is not allowed)');
  }
  return password;
}

/** restic >= 0.17's ForgetPolicyCount: a non-negative integer or "unlimited" (-1); 0.14's -1 too. */
export function parseKeepCount(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (v === 'unlimited' || v === '-1') return -1;
  if (!/^\+?\d{1,9}$/.test(v)) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `${flag} must be a non-negative integer or "unlimited", not ${JSON.stringify(v)}`);
  return Number(v);
}
