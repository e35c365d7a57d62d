// restic's authenticated encryption: AES-256-CTR with a random 16-byte IV, then a
// Poly1305-AES MAC over the ciphertext keyed by (k, r) and the IV as nonce.
// Stored form: IV || ciphertext || MAC.
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorCodes, SidestashError } from '../errors.ts';
import { poly1305 } from './poly1305.ts';

export const IV_SIZE = 16;
export const MAC_SIZE = 16;
/** Bytes encryption adds to a plaintext. */
export const CRYPTO_OVERHEAD = IV_SIZE + MAC_SIZE;

export interface MasterKey {
  /** AES-256 key for encryption. */
  encrypt: Uint8Array;
  /** AES-128 key that encrypts the nonce for Poly1305-AES. */
  macK: Uint8Array;
  /** Poly1305 r (clamped when used). */
  macR: Uint8Array;
}

/** restic's Poly1305-AES: r from the key (clamped by poly1305()), s = AES-128(k, nonce). */
function macFor(key: MasterKey, nonce: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const oneTimeKey = new Uint8Array(32);
  oneTimeKey.set(key.macR, 0);
  const aes = createCipheriv('aes-128-ecb', key.macK, null);
  aes.setAutoPadding(false);
  oneTimeKey.set(aes.update(nonce), 16);
  return poly1305(oneTimeKey, ciphertext);
}

/** Encrypts into a fresh buffer IV || ciphertext || MAC. */
export function encrypt(key: MasterKey, plaintext: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(plaintext.length + CRYPTO_OVERHEAD);
  const iv = randomBytes(IV_SIZE);
  iv.copy(out, 0);
  const cipher = createCipheriv('aes-256-ctr', key.encrypt, iv);
  const body = cipher.update(plaintext);
  body.copy(out, IV_SIZE);
  cipher.final();
  out.set(macFor(key, iv, out.subarray(IV_SIZE, IV_SIZE + plaintext.length)), IV_SIZE + plaintext.length);
  return out;
}

/** Encrypts into `target` at `offset` (IV || ciphertext || MAC); returns the bytes written. */
export function encryptInto(key: MasterKey, plaintext: Uint8Array, target: Buffer, offset: number): number {
  const iv = randomBytes(IV_SIZE);
  iv.copy(target, offset);
  const cipher = createCipheriv('aes-256-ctr', key.encrypt, iv);
  const body = cipher.update(plaintext);
  body.copy(target, offset + IV_SIZE);
  cipher.final();
  const end = offset + IV_SIZE + plaintext.length;
  target.set(macFor(key, iv, target.subarray(offset + IV_SIZE, end)), end);
  return plaintext.length + CRYPTO_OVERHEAD;
}

/**
 * Verifies and decrypts IV || ciphertext || MAC. A MAC mismatch is CORRUPT_FILE (or,
 * for key files, the caller turns it into WRONG_PASSWORD).
 */
export function decrypt(key: MasterKey, sealed: Uint8Array, what = 'data'): Buffer {
  if (sealed.length < CRYPTO_OVERHEAD) {
    throw new SidestashError(ErrorCodes.CORRUPT_FILE, `${what}: ciphertext too short (${sealed.length} bytes)`);
  }
  const iv = sealed.subarray(0, IV_SIZE);
  const ciphertext = sealed.subarray(IV_SIZE, sealed.length - MAC_SIZE);
  const mac = sealed.subarray(sealed.length - MAC_SIZE);
  if (!timingSafeEqual(macFor(key, iv, ciphertext), mac)) {
    throw new SidestashError(ErrorCodes.CORRUPT_FILE, `${what}: MAC verification failed (corrupt data or wrong key)`);
  }
  const decipher = createDecipheriv('aes-256-ctr', key.encrypt, iv);
  const out = decipher.update(ciphertext);
  decipher.final();
  return out;
}

export function randomMasterKey(): MasterKey {
  return { encrypt: randomBytes(32), macK: randomBytes(16), macR: randomBytes(16) };
}

/** The master key in the JSON shape restic stores inside a key file. */
export interface MasterKeyJson {
  mac: { k: string; r: string };
  encrypt: string;
}

export function masterKeyToJson(key: MasterKey): MasterKeyJson {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  return { mac: { k: b64(key.macK), r: b64(key.macR) }, encrypt: b64(key.encrypt) };
}

export function masterKeyFromJson(json: unknown): MasterKey {
  const j = json as Partial<MasterKeyJson> | null;
  const decode = (s: unknown, size: number, field: string): Buffer => {
    const b = typeof s === 'string' ? Buffer.from(s, 'base64') : Buffer.alloc(0);
    if (b.length !== size) throw new SidestashError(ErrorCodes.CORRUPT_FILE, `master key: field ${field} must be ${size} bytes`);
    return b;
  };
  return {
    encrypt: decode(j?.encrypt, 32, 'encrypt'),
    macK: decode(j?.mac?.k, 16, 'mac.k'),
    macR: decode(j?.mac?.r, 16, 'mac.r'),
  };
}
