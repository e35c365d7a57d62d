// Key files (keys/<id>): plain JSON holding scrypt parameters, a salt and the master key
// encrypted with the key derived from the password.
import { randomBytes, scrypt } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { ErrorCodes, SidestashError, isSidestashError } from '../errors.ts';
import { decrypt, encrypt, masterKeyFromJson, masterKeyToJson } from './crypto.ts';
import type { MasterKey } from './crypto.ts';
import { sha256Hex } from './ids.ts';
import type { Id } from './ids.ts';
import { formatTime } from './time.ts';

export interface KeyFileJson {
  hostname?: string;
  username?: string;
  kdf: string;
  N: number;
  r: number;
  p: number;
  created?: string;
  data: string;
  salt: string;
}

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** 32 MiB of scrypt memory: hard to brute-force, and cheap enough for a sidecar with a small memory limit. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 1 << 15, r: 8, p: 1 };

/**
 * Bounds on a key file's scrypt parameters. A key file is plain JSON that anyone who can write
 * to the repository's storage can add (no password needed), and the controller and agents try
 * every key file: unbounded parameters let such a file take gigabytes of memory or minutes of
 * CPU from them (N = 2^22 took 4 GiB and 17 s). restic calibrates its keys to 60 MiB and half a
 * second, so these bounds leave room for keys made on much faster machines.
 */
export const SCRYPT_LIMITS = { maxN: 1 << 20, maxR: 32, maxP: 16, maxMemoryBytes: 256 * 1024 * 1024, maxWork: 1 << 22 } as const;

/** Why a key file's scrypt parameters are refused; undefined when they are within bounds. */
export function scryptParamsProblem(params: { N: unknown; r: unknown; p: unknown }, saltBytes: number): string | undefined {
  const { N, r, p } = params;
  if (!Number.isSafeInteger(N) || !Number.isSafeInteger(r) || !Number.isSafeInteger(p)) return 'N, r and p must be integers';
  const n = N as number;
  const rr = r as number;
  const pp = p as number;
  if (n < 2 || n > SCRYPT_LIMITS.maxN || (n & (n - 1)) !== 0) return `N must be a power of two from 2 to ${SCRYPT_LIMITS.maxN}, not ${n}`;
  if (rr < 1 || rr > SCRYPT_LIMITS.maxR) return `r must be from 1 to ${SCRYPT_LIMITS.maxR}, not ${rr}`;
  if (pp < 1 || pp > SCRYPT_LIMITS.maxP) return `p must be from 1 to ${SCRYPT_LIMITS.maxP}, not ${pp}`;
  if (128 * n * rr > SCRYPT_LIMITS.maxMemoryBytes) return `N and r ask for ${(128 * n * rr) / 2 ** 20} MiB, more than ${SCRYPT_LIMITS.maxMemoryBytes / 2 ** 20} MiB`;
  if (n * rr * pp > SCRYPT_LIMITS.maxWork) return `N·r·p = ${n * rr * pp} is more work than ${SCRYPT_LIMITS.maxWork}`;
  if (saltBytes < 16 || saltBytes > 1024) return `the salt has ${saltBytes} bytes (16 to 1024 expected)`;
  return undefined;
}

function deriveKey(password: string, salt: Uint8Array, params: ScryptParams): Promise<MasterKey> {
  // The memory scrypt needs (128·N·r, plus 128·r·p) with headroom; parameters are bounded above.
  const maxmem = 128 * params.N * params.r + 128 * params.r * params.p + 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, 64, { N: params.N, r: params.r, p: params.p, maxmem }, (err, buf) => {
      if (err) {
        reject(new SidestashError(ErrorCodes.CORRUPT_FILE, `key file: scrypt failed: ${err.message}`, { cause: err }));
        return;
      }
      resolve({ encrypt: buf.subarray(0, 32), macK: buf.subarray(32, 48), macR: buf.subarray(48, 64) });
    });
  });
}

/** Creates a key file protecting `master` with `password`; returns its id (hash of the JSON) and bytes. */
export async function createKeyFile(
  password: string,
  master: MasterKey,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<{ id: Id; bytes: Buffer }> {
  const salt = randomBytes(64);
  const userKey = await deriveKey(password, salt, params);
  const sealed = encrypt(userKey, Buffer.from(JSON.stringify(masterKeyToJson(master))));
  let username = '';
  try {
    username = userInfo().username;
  } catch {
    // no passwd entry (containers running as an arbitrary uid)
  }
  const json: KeyFileJson = {
    created: formatTime(new Date()),
    username,
    hostname: hostname(),
    kdf: 'scrypt',
    N: params.N,
    r: params.r,
    p: params.p,
    salt: salt.toString('base64'),
    data: sealed.toString('base64'),
  };
  const bytes = Buffer.from(JSON.stringify(json));
  return { id: sha256Hex(bytes), bytes };
}

/** Opens a key file with a password; WRONG_PASSWORD when the password does not fit. */
export async function openKeyFile(bytes: Uint8Array, password: string, name: string): Promise<MasterKey> {
  let json: KeyFileJson;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8')) as KeyFileJson;
  } catch (err) {
    throw new SidestashError(ErrorCodes.CORRUPT_FILE, `key ${name}: not JSON`, { cause: err });
  }
  if (json === null || typeof json !== 'object' || json.kdf !== 'scrypt') {
    throw new SidestashError(ErrorCodes.UNSUPPORTED_REPOSITORY, `key ${name}: unsupported KDF ${JSON.stringify((json as { kdf?: unknown } | null)?.kdf)}`);
  }
  const salt = Buffer.from(typeof json.salt === 'string' ? json.salt : '', 'base64');
  const problem = scryptParamsProblem(json, salt.length);
  if (problem) throw new SidestashError(ErrorCodes.UNSUPPORTED_REPOSITORY, `key ${name}: scrypt parameters refused: ${problem}`);
  const userKey = await deriveKey(password, salt, json);
  let plaintext: Buffer;
  try {
    plaintext = decrypt(userKey, Buffer.from(json.data, 'base64'), `key ${name}`);
  } catch (err) {
    if (isSidestashError(err, ErrorCodes.CORRUPT_FILE)) {
      throw new SidestashError(ErrorCodes.WRONG_PASSWORD, 'wrong password or no key found', { cause: err });
    }
    throw err;
  }
  return masterKeyFromJson(JSON.parse(plaintext.toString('utf8')));
}
