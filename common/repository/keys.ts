// A repository's keys (keys/<id>), as restic's `key list|add|remove`: every key file holds the
// same master key under another password (FORMAT.md, "Keys, Encryption and MAC"). Listing
// reads only a key file's plain fields; key files are untrusted, so only strings are taken.
import type { CallOptions } from '../backend/backend.ts';
import { ErrorCodes, SidestashError } from '../errors.ts';
import { DEFAULT_SCRYPT, createKeyFile } from './key-file.ts';
import type { ScryptParams } from './key-file.ts';
import { withLock } from './lock.ts';
import type { Repository } from './repository.ts';

export interface KeyInfo {
  id: string;
  /** The key that opened the repository (restic marks it "*"). */
  current: boolean;
  userName: string;
  hostName: string;
  /** As the key file has it (RFC 3339), "" when absent. */
  created: string;
}

const MAX_KEY_FILE_BYTES = 64 * 1024;

export async function listKeys(repo: Repository, options: CallOptions = {}): Promise<KeyInfo[]> {
  const out: KeyInfo[] = [];
  for (const id of await repo.listIds('keys', options)) {
    let json: Record<string, unknown> = {};
    try {
      const handle = { type: 'keys' as const, name: id };
      if ((await repo.backend.stat(handle, options)).sizeBytes > MAX_KEY_FILE_BYTES) throw new Error('key file too large');
      const bytes = await repo.backend.load(handle, options);
      const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
    } catch {
      // an unreadable key file is still listed, without its fields
    }
    const s = (v: unknown): string => (typeof v === 'string' ? v.slice(0, 256) : '');
    out.push({ id, current: id === repo.keyId, userName: s(json.username), hostName: s(json.hostname), created: s(json.created) });
  }
  return out;
}

/** Adds a key for `newPassword` (under a shared lock, as restic); returns its id. */
export async function addKey(repo: Repository, newPassword: string, options: CallOptions & { scrypt?: ScryptParams } = {}): Promise<string> {
  if (newPassword === '') throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'an empty password is not allowed');
  return withLock(repo, false, options, async (signal) => {
    const file = await createKeyFile(newPassword, repo.key, options.scrypt ?? DEFAULT_SCRYPT);
    await repo.backend.save({ type: 'keys', name: file.id }, file.bytes, { signal });
    return file.id;
  });
}

/** The one key id `ref` (an id or a unique prefix of one) names. */
export function resolveKeyId(ids: readonly string[], ref: string): string {
  if (!/^[0-9a-f]{1,64}$/.test(ref)) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `key ID ${JSON.stringify(ref)} is not a hexadecimal ID`);
  const found = ids.filter((id) => id.startsWith(ref));
  if (found.length === 0) throw new SidestashError(ErrorCodes.NOT_FOUND, `no key with ID ${ref}`);
  if (found.length > 1) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `key ID prefix ${ref} is ambiguous: ${found.map((f) => f.slice(0, 8)).join(', ')}`);
  return found[0]!;
}

/** Removes a key other than the current one (under an exclusive lock, as restic); returns its id. */
export async function removeKey(repo: Repository, ref: string, options: CallOptions = {}): Promise<string> {
  return withLock(repo, true, options, async (signal) => {
    const id = resolveKeyId(await repo.listIds('keys', { signal }), ref);
    if (id === repo.keyId) throw new SidestashError(ErrorCodes.CONFLICT, 'refusing to remove key currently used to access repository');
    await repo.backend.remove({ type: 'keys', name: id }, { signal });
    return id;
  });
}
