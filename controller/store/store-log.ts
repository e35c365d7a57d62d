// What opening the state database changed or could not change, for the controller's log.
import type { Logger } from '../../common/log.ts';
import type { Store } from './store.ts';

export function logStoreOpened(store: Store, log: Logger): void {
  const o = store.opened;
  for (const problem of o.modeProblems) log.warn('could not make the state directory or a database file private', { problem });
  if (o.keyFileCreated) log.warn('no encryption key configured: created one for Secret values at rest; keep it with the database (without it the Secrets cannot be read), or set SIDESTASH_ENCRYPTION_KEY_FILE', { keyFile: o.keyFileCreated });
  if (o.secretsSealed > 0) log.info('encrypted the Secrets stored in plaintext by an earlier version', { count: o.secretsSealed });
}
