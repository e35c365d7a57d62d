// Turns a repository location into a Backend, restic-style:
//   local:/path or /path            a directory
//   s3:https://host[:port]/bucket[/prefix]    S3 and compatible servers
//   rest:http(s)://[user:pass@]host:port/path/  restic REST server
// Credentials use Stash's storage-secret key names (see each backend). The S3 and REST clients
// are loaded only when used: a sidecar writing to a local repository stays smaller.
import { ErrorCodes, SidestashError } from '../errors.ts';
import type { Backend } from './backend.ts';
import { LocalBackend } from './local/local-backend.ts';
import { limitUploads } from './rate-limit.ts';
import type { RetryPolicy } from './retry.ts';
import type { TokenBucket } from './token-bucket.ts';

export interface OpenBackendOptions {
  /** How S3 and REST calls retry (default: DEFAULT_RETRY). */
  retry?: RetryPolicy;
  /** Upload bandwidth limit in KiB/s over all of this backend's uploads (rate-limit.ts). */
  limitUploadKiBps?: number;
  /** Limits shared with other backends (the agent's, over all its sessions); they apply too. */
  sharedUploadLimits?: readonly TokenBucket[];
}

export async function openBackend(location: string, credentials: Record<string, string> = {}, options: OpenBackendOptions = {}): Promise<Backend> {
  return limitUploads(await openPlainBackend(location, credentials, options.retry), options.limitUploadKiBps, options.sharedUploadLimits);
}

async function openPlainBackend(location: string, credentials: Record<string, string>, retry: RetryPolicy | undefined): Promise<Backend> {
  if (location.startsWith('local:')) return new LocalBackend(location.slice('local:'.length));
  if (location.startsWith('s3:')) {
    const [{ S3Backend }, { parseS3Location }] = await Promise.all([import('./s3/s3-backend.ts'), import('./s3/s3-config.ts')]);
    return new S3Backend(parseS3Location(location, credentials), retry);
  }
  if (location.startsWith('rest:')) return new (await import('./rest/rest-backend.ts')).RestBackend(location, credentials, retry);
  if (location === '') throw new SidestashError(ErrorCodes.INVALID_CONFIG, 'repository location is empty');
  if (/^[a-z0-9+]+:/i.test(location)) {
    throw new SidestashError(ErrorCodes.INVALID_CONFIG, `unsupported repository location ${JSON.stringify(location.split(':')[0])}: use local:, s3: or rest:`);
  }
  return new LocalBackend(location);
}
