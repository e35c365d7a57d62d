// Where the key that seals Secret values comes from: SIDESTASH_ENCRYPTION_KEY (base64 of 32
// bytes) or SIDESTASH_ENCRYPTION_KEY_FILE (a file holding that text, e.g. a mounted
// Kubernetes Secret). Without either, the controller keeps its own key in a file beside the
// database (encryption.key, 0600), created on first start; a database in memory gets a key
// that lives as long as the process.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import { FILE_MODE } from './db-files.ts';
import { KEY_BYTES, SecretCipher, decodeKey, generateKeyText } from './secret-cipher.ts';

export const DEFAULT_KEY_FILE = 'encryption.key';

/** A configured key: its base64 text and the setting it came from (named in errors). */
export interface ConfiguredKey {
  text: string;
  setting: string;
}

export interface ResolvedCipher {
  cipher: SecretCipher;
  /** Set when the key file was created now (the caller logs it). */
  generatedFile?: string;
}

export function defaultKeyFile(databasePath: string): string {
  return join(dirname(databasePath), DEFAULT_KEY_FILE);
}

export function resolveSecretCipher(databasePath: string, configured?: ConfiguredKey): ResolvedCipher {
  if (configured) {
    const key = decodeKey(configured.text);
    if (!key) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `${configured.setting}: must be base64 of ${KEY_BYTES} bytes (e.g. the output of: head -c ${KEY_BYTES} /dev/urandom | base64)`);
    return { cipher: new SecretCipher(key, configured.setting) };
  }
  if (databasePath === ':memory:') return { cipher: new SecretCipher(randomBytes(KEY_BYTES), 'an in-memory key (SIDESTASH_DB is :memory:)') };
  const file = defaultKeyFile(databasePath);
  const setting = `the key file ${file} (set SIDESTASH_ENCRYPTION_KEY_FILE or SIDESTASH_ENCRYPTION_KEY to use another)`;
  let generatedFile: string | undefined;
  if (!existsSync(file)) {
    try {
      writeFileSync(file, generateKeyText(), { mode: FILE_MODE, flag: 'wx' });
      generatedFile = file;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new SidestashError(ErrorCodes.INVALID_CONFIG, `cannot create ${file}: ${(err as Error).message}`, { cause: err });
    }
  }
  chmodSync(file, FILE_MODE);
  const key = decodeKey(readFileSync(file, 'utf8'));
  if (!key) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `${setting}: does not hold base64 of ${KEY_BYTES} bytes`);
  return { cipher: new SecretCipher(key, setting), ...(generatedFile ? { generatedFile } : {}) };
}
