// Repository IDs: SHA-256 digests, written as 64 lowercase hex characters.
import { createHash } from 'node:crypto';
import { ErrorCodes, SidestashError } from '../errors.ts';

export type Id = string;

export function sha256Hex(data: Uint8Array): Id {
  return createHash('sha256').update(data).digest('hex');
}

export function isId(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}

export function idToBytes(id: Id): Buffer {
  if (!isId(id)) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `invalid id ${JSON.stringify(id)}`);
  return Buffer.from(id, 'hex');
}

export function shortId(id: Id): string {
  return id.slice(0, 8);
}

/** Resolves a unique prefix of an ID among candidates, as restic does for snapshot IDs. */
export function resolvePrefix(prefix: string, candidates: Iterable<Id>, what: string): Id {
  const matches: Id[] = [];
  for (const id of candidates) if (id.startsWith(prefix)) matches.push(id);
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) {
    throw new SidestashError(ErrorCodes.SNAPSHOT_NOT_FOUND, `no ${what} matches ${JSON.stringify(prefix)}`);
  }
  throw new SidestashError(ErrorCodes.AMBIGUOUS_ID, `prefix ${JSON.stringify(prefix)} matches ${matches.length} ${what}s`);
}
