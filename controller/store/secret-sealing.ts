// On opening the state database: prove the key is the one the Secrets were sealed with (a
// sealed check value in the meta table), and seal the Secrets a database written before
// encryption holds in plaintext, in one transaction. The plaintext is then scrubbed from the
// file and its write-ahead log (VACUUM, then a truncating checkpoint).
import type { DatabaseSync } from 'node:sqlite';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import { isSealed } from './secret-cipher.ts';
import type { RowIdentity, SecretCipher } from './secret-cipher.ts';

export const SEALED_KIND = 'Secret';
const KEY_CHECK = 'secretKeyCheck';
const KEY_CHECK_ROW: RowIdentity = { kind: 'meta', namespace: '', name: KEY_CHECK };
const KEY_CHECK_TEXT = 'sidestash secret key check';

function wrongKey(cipher: SecretCipher, cause: unknown): SidestashError {
  return new SidestashError(
    ErrorCodes.INVALID_CONFIG,
    `the state database's Secrets were encrypted with another key than ${cipher.source}; start the controller with the key the database was written with (SIDESTASH_ENCRYPTION_KEY or SIDESTASH_ENCRYPTION_KEY_FILE)`,
    { cause },
  );
}

/** Checks the key and seals plaintext Secrets; returns how many were sealed now. */
export function sealSecretsAtRest(db: DatabaseSync, cipher: SecretCipher): number {
  const check = db.prepare('SELECT value FROM meta WHERE key = ?').get(KEY_CHECK) as { value: string } | undefined;
  const rows = db.prepare('SELECT namespace, name, doc FROM resources WHERE kind = ?').all(SEALED_KIND) as { namespace: string; name: string; doc: string }[];
  if (check) {
    try {
      if (cipher.open(KEY_CHECK_ROW, check.value) !== KEY_CHECK_TEXT) throw new Error('key check value differs');
    } catch (err) {
      throw wrongKey(cipher, err);
    }
  } else {
    // Sealed rows without a check value (it was lost): the first of them tells.
    const sealed = rows.find((r) => isSealed(r.doc));
    if (sealed) {
      try {
        cipher.open({ kind: SEALED_KIND, ...sealed }, sealed.doc);
      } catch (err) {
        throw wrongKey(cipher, err);
      }
    }
  }
  const plain = rows.filter((r) => !isSealed(r.doc));
  if (check && plain.length === 0) return 0;
  db.exec('BEGIN IMMEDIATE');
  try {
    if (!check) db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(KEY_CHECK, cipher.seal(KEY_CHECK_ROW, KEY_CHECK_TEXT));
    const update = db.prepare('UPDATE resources SET doc = ? WHERE kind = ? AND namespace = ? AND name = ? AND doc = ?');
    for (const r of plain) update.run(cipher.seal({ kind: SEALED_KIND, ...r }, r.doc), SEALED_KIND, r.namespace, r.name, r.doc);
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
  if (plain.length > 0) {
    db.exec('VACUUM');
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  }
  return plain.length;
}
