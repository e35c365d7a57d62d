// Turns a repository location into a Backend, restic-style:
//   local:/path or /path            a directory
//   s3:https://host[:port]/bucket[/prefix]    S3 and compatible servers
//   rest:http(s)://[user:pass@]host:port/path/  restic REST server
// Credentials use Stash's storage-secret key names (see each backend). The S3 and REST clients
// are loaded only when used: a sidecar writing to a local repository stays smaller.
import { ErrorCodes, SidestashError } from '../errors.ts';
import type { Backend } from './backend.ts';
import { LocalBackend } from './local/local-backend.ts';

export async function openBackend(location: string, credentials: Record<string, string> = {}): Promise<Backend> {
  if (location.startsWith('local:')) return new LocalBackend(location.slice('local:'.length));
  if (location.startsWith('s3:')) {
    const [{ S3Backend }, { parseS3Location }] = await Promise.all([import('./s3/s3-backend.ts'), import('./s3/s3-config.ts')]);
    return new S3Backend(parseS3Location(location, credentials));
  }
  if (location.startsWith('rest:')) return new (await import('./rest/rest-backend.ts')).RestBackend(location, credentials);
  if (location === '') throw new SidestashError(ErrorCodes.INVALID_CONFIG, 'repository location is empty');
  if (/^[a-z0-9+]+:/i.test(location)) {
    throw new SidestashError(ErrorCodes.INVALID_CONFIG, `unsupported repository location ${JSON.stringify(location.split(':')[0])}: use local:, s3: or rest:`);
  }
  return new LocalBackend(location);
}
