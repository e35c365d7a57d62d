// Unpacked files (config, index, snapshots, locks): IV || ciphertext || MAC whose plaintext is
// JSON, or in format version 2 a version byte 0x02 followed by zstd-compressed JSON. The
// config file is never compressed. File names are the SHA-256 of the stored bytes.
import type { FileType } from '../backend/backend.ts';
import { ErrorCodes, SidestashError } from '../errors.ts';
import { compressSync, decompressSync } from './compression.ts';
import { decrypt, encrypt } from './crypto.ts';
import type { MasterKey } from './crypto.ts';
import { sha256Hex } from './ids.ts';

export function encodeUnpacked(key: MasterKey, type: FileType, json: unknown, formatVersion: number): Buffer {
  const text = Buffer.from(JSON.stringify(json));
  if (type === 'config' || formatVersion < 2) return encrypt(key, text);
  return encrypt(key, Buffer.concat([Buffer.from([2]), compressSync(text)]));
}

export function decodeUnpacked(key: MasterKey, type: FileType, name: string, sealed: Uint8Array): unknown {
  const what = `${type}/${name}`;
  if (type !== 'config' && sha256Hex(sealed) !== name) {
    throw new SidestashError(ErrorCodes.CORRUPT_FILE, `${what}: content does not match its name (corrupt file)`);
  }
  const plain = decrypt(key, sealed, what);
  let text: Buffer;
  const first = plain[0];
  if (first === 0x7b || first === 0x5b) text = plain;
  else if (first === 2) text = decompressSync(plain.subarray(1), undefined, what);
  else throw new SidestashError(ErrorCodes.UNSUPPORTED_REPOSITORY, `${what}: unknown encoding version ${first}`);
  try {
    return JSON.parse(text.toString('utf8'));
  } catch (err) {
    throw new SidestashError(ErrorCodes.CORRUPT_FILE, `${what}: invalid JSON`, { cause: err });
  }
}
