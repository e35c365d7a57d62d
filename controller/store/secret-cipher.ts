// Secret values at rest: the stored document of every Secret is sealed with AES-256-GCM
// (node:crypto, on Node and Deno alike) under one 32-byte key. The row's identity (kind,
// namespace, name) is the additional authenticated data, so a ciphertext moved to another
// row fails to open instead of handing one Secret's values to another's reader. Stored form:
//   sidestash:aes-256-gcm:v1:<base64(12-byte nonce | ciphertext | 16-byte tag)>
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';

export const SEALED_PREFIX = 'sidestash:aes-256-gcm:v1:';
export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface RowIdentity {
  kind: string;
  namespace: string;
  name: string;
}

/** The AAD of a row: unambiguous whatever the names contain. */
export function rowAad(row: RowIdentity): Buffer {
  return Buffer.from(JSON.stringify(['sidestash-row-v1', row.kind, row.namespace, row.name]), 'utf8');
}

export function isSealed(stored: string): boolean {
  return stored.startsWith(SEALED_PREFIX);
}

/** A key given as base64 of exactly 32 bytes (whitespace around it ignored); undefined if it is not. */
export function decodeKey(text: string): Buffer | undefined {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t) && !/^[A-Za-z0-9_-]+$/.test(t)) return undefined;
  const key = Buffer.from(t, t.includes('-') || t.includes('_') ? 'base64url' : 'base64');
  return key.length === KEY_BYTES ? key : undefined;
}

export function generateKeyText(): string {
  return `${randomBytes(KEY_BYTES).toString('base64')}\n`;
}

export class SecretCipher {
  readonly #key: Buffer;
  /** Where the key came from, named in every error (e.g. "SIDESTASH_ENCRYPTION_KEY_FILE (/etc/key)"). */
  readonly source: string;

  constructor(key: Uint8Array, source: string) {
    if (key.length !== KEY_BYTES) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `${source}: the encryption key must be ${KEY_BYTES} bytes (base64), got ${key.length}`);
    this.#key = Buffer.from(key);
    this.source = source;
  }

  seal(row: RowIdentity, plaintext: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(rowAad(row));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return SEALED_PREFIX + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
  }

  /** The plaintext, or a CORRUPT_FILE error: never bytes that did not authenticate. */
  open(row: RowIdentity, stored: string): string {
    const what = `${row.kind} ${row.namespace}/${row.name}`;
    if (!isSealed(stored)) throw new SidestashError(ErrorCodes.CORRUPT_FILE, `${what} is stored unencrypted in the state database; refusing to use it`);
    const raw = Buffer.from(stored.slice(SEALED_PREFIX.length), 'base64');
    if (raw.length < NONCE_BYTES + TAG_BYTES) throw new SidestashError(ErrorCodes.CORRUPT_FILE, `${what}: sealed value is truncated`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(rowAad(row));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const text = Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
      return new TextDecoder('utf-8', { fatal: true }).decode(text);
    } catch (err) {
      throw new SidestashError(ErrorCodes.CORRUPT_FILE, `${what} cannot be decrypted with the key from ${this.source}: wrong key, or the stored value was altered or moved from another row`, { cause: err });
    }
  }
}
