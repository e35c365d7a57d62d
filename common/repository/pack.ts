// Pack files: EncryptedBlob1 || ... || EncryptedBlobN || EncryptedHeader || HeaderLength(u32le).
// Header entries (plaintext): type byte, then u32le encrypted length, [u32le plaintext
// length for compressed types], 32-byte plaintext SHA-256.
import { ErrorCodes, SidestashError } from '../errors.ts';
import { CRYPTO_OVERHEAD, decrypt, encryptInto } from './crypto.ts';
import type { MasterKey } from './crypto.ts';
import { idToBytes, sha256Hex } from './ids.ts';
import type { Id } from './ids.ts';

export type BlobType = 'data' | 'tree';

/** Where a blob lives inside its pack. `uncompressedLength` is set for compressed blobs only. */
export interface PackedBlob {
  id: Id;
  type: BlobType;
  offset: number;
  length: number;
  uncompressedLength?: number;
}

const ENTRY_PLAIN = 1 + 4 + 32;
const ENTRY_COMPRESSED = 1 + 4 + 4 + 32;
/** restic refuses headers with more entries than fit in 16 MiB; so do we. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

/** Upper bound of the header and trailer a pack with `blobs` entries needs. */
export function packOverheadBytes(blobs: number): number {
  return blobs * ENTRY_COMPRESSED + CRYPTO_OVERHEAD + 4;
}

/**
 * Builds a pack inside one buffer: blobs are encrypted straight into it and the header is
 * appended at the end, so a pack costs no copies and its buffer can be reused afterwards.
 */
export class PackBuilder {
  readonly buffer: Buffer;
  readonly blobs: PackedBlob[] = [];
  #sizeBytes = 0;

  constructor(buffer: Buffer) {
    this.buffer = buffer;
  }

  get sizeBytes(): number {
    return this.#sizeBytes;
  }

  get count(): number {
    return this.blobs.length;
  }

  /** Whether a blob of `plaintextBytes` (before encryption) still fits, header included. */
  fits(plaintextBytes: number): boolean {
    return this.#sizeBytes + plaintextBytes + CRYPTO_OVERHEAD + packOverheadBytes(this.blobs.length + 1) <= this.buffer.length;
  }

  /** Encrypts a blob into the pack. */
  add(key: MasterKey, id: Id, type: BlobType, body: Uint8Array, uncompressedLength?: number): void {
    const length = encryptInto(key, body, this.buffer, this.#sizeBytes);
    const blob: PackedBlob = { id, type, offset: this.#sizeBytes, length };
    if (uncompressedLength !== undefined) blob.uncompressedLength = uncompressedLength;
    this.blobs.push(blob);
    this.#sizeBytes += length;
  }

  /** Appends the encrypted header; returns the pack's bytes (a view of the buffer) and id. */
  finish(key: MasterKey): { id: Id; bytes: Buffer; blobs: PackedBlob[] } {
    const headerLength = encryptInto(key, encodeHeader(this.blobs), this.buffer, this.#sizeBytes);
    this.buffer.writeUInt32LE(headerLength, this.#sizeBytes + headerLength);
    const bytes = this.buffer.subarray(0, this.#sizeBytes + headerLength + 4);
    return { id: sha256Hex(bytes), bytes, blobs: this.blobs };
  }
}

export function encodeHeader(blobs: readonly PackedBlob[]): Buffer {
  let size = 0;
  for (const b of blobs) size += b.uncompressedLength === undefined ? ENTRY_PLAIN : ENTRY_COMPRESSED;
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const b of blobs) {
    const compressed = b.uncompressedLength !== undefined;
    out[pos++] = (b.type === 'tree' ? 1 : 0) | (compressed ? 2 : 0);
    out.writeUInt32LE(b.length, pos);
    pos += 4;
    if (compressed) {
      out.writeUInt32LE(b.uncompressedLength!, pos);
      pos += 4;
    }
    idToBytes(b.id).copy(out, pos);
    pos += 32;
  }
  return out;
}

export function decodeHeader(header: Uint8Array, packId: Id): PackedBlob[] {
  const buf = Buffer.from(header.buffer, header.byteOffset, header.length);
  const blobs: PackedBlob[] = [];
  let pos = 0;
  let offset = 0;
  while (pos < buf.length) {
    const type = buf[pos]!;
    if (type > 3) throw corrupt(packId, `invalid blob type ${type} in header`);
    const compressed = (type & 2) !== 0;
    const need = compressed ? ENTRY_COMPRESSED : ENTRY_PLAIN;
    if (pos + need > buf.length) throw corrupt(packId, 'truncated header entry');
    const length = buf.readUInt32LE(pos + 1);
    const blob: PackedBlob = { id: '', type: (type & 1) === 1 ? 'tree' : 'data', offset, length };
    if (compressed) blob.uncompressedLength = buf.readUInt32LE(pos + 5);
    blob.id = buf.toString('hex', pos + need - 32, pos + need);
    if (length < CRYPTO_OVERHEAD) throw corrupt(packId, `blob ${blob.id} shorter than its encryption overhead`);
    blobs.push(blob);
    offset += length;
    pos += need;
  }
  return blobs;
}

/** Parses and authenticates a pack's header from its tail; checks offsets against the size. */
export function readHeaderFromPack(key: MasterKey, pack: Uint8Array, packId: Id): PackedBlob[] {
  if (pack.length < 4 + CRYPTO_OVERHEAD) throw corrupt(packId, `pack too short (${pack.length} bytes)`);
  const view = Buffer.from(pack.buffer, pack.byteOffset, pack.length);
  const headerLength = view.readUInt32LE(pack.length - 4);
  if (headerLength > MAX_HEADER_BYTES || headerLength + 4 > pack.length) {
    throw corrupt(packId, `header length ${headerLength} does not fit pack of ${pack.length} bytes`);
  }
  const headerStart = pack.length - 4 - headerLength;
  let header: Buffer;
  try {
    header = decrypt(key, view.subarray(headerStart, pack.length - 4), `pack ${packId} header`);
  } catch (err) {
    throw corrupt(packId, 'header failed authentication', err);
  }
  const blobs = decodeHeader(header, packId);
  const dataEnd = blobs.reduce((n, b) => n + b.length, 0);
  if (dataEnd !== headerStart) throw corrupt(packId, `blobs end at ${dataEnd} but header starts at ${headerStart}`);
  return blobs;
}

function corrupt(packId: Id, what: string, cause?: unknown): SidestashError {
  return new SidestashError(ErrorCodes.CORRUPT_PACK, `pack ${packId}: ${what}`, { cause, details: { packId } });
}
