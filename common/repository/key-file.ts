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

function deriveKey(password: string, salt: Uint8Array, params: ScryptParams): Promise<MasterKey> {
  const maxmem = 128 * params.N * params.r * params.p + 64 * 1024 * 1024;
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
  if (json.kdf !== 'scrypt' || !Number.isInteger(json.N) || !Number.isInteger(json.r) || !Number.isInteger(json.p)) {
    throw new SidestashError(ErrorCodes.UNSUPPORTED_REPOSITORY, `key ${name}: unsupported KDF ${JSON.stringify(json.kdf)}`);
  }
  const userKey = await deriveKey(password, Buffer.from(json.salt, 'base64'), json);
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
