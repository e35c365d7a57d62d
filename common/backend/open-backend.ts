// Turns a repository location into a Backend. Forms: "local:/path" or a plain path.
// (S3 and restic REST locations arrive with their backends.)
import { ErrorCodes, SidestashError } from '../errors.ts';
import type { Backend } from './backend.ts';
import { LocalBackend } from './local/local-backend.ts';

export function openBackend(location: string, _credentials: Record<string, string> = {}): Backend {
  if (location.startsWith('local:')) return new LocalBackend(location.slice('local:'.length));
  if (/^[a-z0-9+]+:/i.test(location) && !location.startsWith('/')) {
    throw new SidestashError(ErrorCodes.INVALID_CONFIG, `unsupported repository location ${JSON.stringify(location.split(':')[0])}: use local:PATH`);
  }
  if (location === '') throw new SidestashError(ErrorCodes.INVALID_CONFIG, 'repository location is empty');
  return new LocalBackend(location);
}
