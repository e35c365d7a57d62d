// The storage credentials of `sidestash repo`, read from the environment as restic reads them
// (restic's S3 and REST backends' ApplyEnvironment, and its global --cacert / -o options), and
// turned into the storage-secret keys the backends take (Stash's names, common/backend/):
//   s3:    AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (or minio's AWS_ACCESS_KEY + AWS_SECRET_KEY),
//          AWS_SESSION_TOKEN; without keys, the shared credentials file (AWS_SHARED_CREDENTIALS_FILE,
//          default ~/.aws/credentials) under profile AWS_PROFILE (default "default");
//          region from AWS_DEFAULT_REGION; -o s3.region=R and -o s3.bucket-lookup=auto|dns|path.
//   rest:  user:pass in the URL, or else RESTIC_REST_USERNAME / RESTIC_REST_PASSWORD.
//   both:  --cacert FILE (repeatable) or RESTIC_CACERT (comma-separated files): the certificates
//          trusted for the server instead of the system's, as restic's --cacert.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, SidestashError } from '../common/errors.ts';

type Env = Record<string, string | undefined>;

export interface BackendFlags {
  cacert?: string[] | undefined;
  /** restic's -o key=value extended options. */
  options?: string[] | undefined;
}

/** The -o keys restic's S3 backend knows that sidestash implements, and the secret key each sets. */
const EXTENDED_OPTIONS: Record<string, string> = { 's3.region': 'AWS_REGION', 's3.bucket-lookup': 'S3_BUCKET_LOOKUP' };

export function parseExtendedOptions(options: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of options) {
    const eq = o.indexOf('=');
    const key = eq < 0 ? o : o.slice(0, eq);
    const secretKey = EXTENDED_OPTIONS[key];
    if (eq < 0 || !secretKey) {
      throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `-o ${JSON.stringify(o)}: expected KEY=VALUE with KEY one of ${Object.keys(EXTENDED_OPTIONS).join(', ')}`);
    }
    out[secretKey] = o.slice(eq + 1);
  }
  return out;
}

/** The [profile] section of an AWS shared credentials file (INI), keys lower-cased. */
export function parseSharedCredentials(text: string, profile: string): Record<string, string> | undefined {
  let current: string | undefined;
  let found: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[\s*([^\]]*?)\s*\]$/.exec(line);
    if (section) {
      current = section[1];
      if (current === profile) found ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (current === profile && found && eq > 0) found[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  return found;
}

async function sharedCredentials(env: Env): Promise<Record<string, string>> {
  const file = env.AWS_SHARED_CREDENTIALS_FILE || join(env.HOME || homedir(), '.aws', 'credentials');
  const profile = env.AWS_PROFILE || 'default';
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    // Absent file: no credentials from it (the S3 settings then name what is missing).
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !env.AWS_SHARED_CREDENTIALS_FILE && !env.AWS_PROFILE) return {};
    throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `AWS shared credentials file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const section = parseSharedCredentials(text, profile);
  if (!section) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `AWS shared credentials file ${file} has no profile ${JSON.stringify(profile)}`);
  const out: Record<string, string> = {};
  if (section.aws_access_key_id) out.AWS_ACCESS_KEY_ID = section.aws_access_key_id;
  if (section.aws_secret_access_key) out.AWS_SECRET_ACCESS_KEY = section.aws_secret_access_key;
  if (section.aws_session_token) out.AWS_SESSION_TOKEN = section.aws_session_token;
  return out;
}

async function caCertData(flags: BackendFlags, env: Env): Promise<string | undefined> {
  const files = flags.cacert?.length ? flags.cacert : (env.RESTIC_CACERT || '').split(',').filter(Boolean);
  if (files.length === 0) return undefined;
  const pems: string[] = [];
  for (const f of files) {
    try {
      pems.push(await readFile(f, 'utf8'));
    } catch (err) {
      throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `--cacert/RESTIC_CACERT: cannot read ${f}: ${(err as Error).message}`, { cause: err });
    }
  }
  return pems.join('\n');
}

function s3Keys(env: Env): Record<string, string> {
  // restic: static keys when both are set, else minio's environment provider (either spelling).
  const id = env.AWS_ACCESS_KEY_ID || env.AWS_ACCESS_KEY;
  const secret = env.AWS_SECRET_ACCESS_KEY || env.AWS_SECRET_KEY;
  return { ...(id ? { AWS_ACCESS_KEY_ID: id } : {}), ...(secret ? { AWS_SECRET_ACCESS_KEY: secret } : {}), ...(env.AWS_SESSION_TOKEN ? { AWS_SESSION_TOKEN: env.AWS_SESSION_TOKEN } : {}) };
}

function restUserInfoInUrl(location: string): boolean {
  try {
    const u = new URL(location.replace(/^rest:/, ''));
    return u.username !== '' || u.password !== '';
  } catch {
    return false; // the backend reports the bad location
  }
}

/** The backend credentials for `location` from restic's variables and options. */
export async function backendCredentials(location: string, flags: BackendFlags = {}, env: Env = process.env): Promise<Record<string, string>> {
  const creds: Record<string, string> = {};
  const extended = parseExtendedOptions(flags.options);
  const ca = await caCertData(flags, env);
  if (ca !== undefined) creds.CA_CERT_DATA = ca;
  if (location.startsWith('s3:')) {
    const keys = s3Keys(env);
    // Without both keys, the shared credentials file; a half-set pair then names what is missing.
    Object.assign(creds, keys.AWS_ACCESS_KEY_ID && keys.AWS_SECRET_ACCESS_KEY ? keys : { ...keys, ...(await sharedCredentials(env)) });
    if (env.AWS_DEFAULT_REGION) creds.AWS_REGION = env.AWS_DEFAULT_REGION;
    Object.assign(creds, extended);
  } else if (Object.keys(extended).length > 0) {
    throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `-o ${Object.keys(EXTENDED_OPTIONS).join(', ')}: only for s3: repositories`);
  }
  // restic applies RESTIC_REST_USERNAME/PASSWORD only when the URL names neither.
  if (location.startsWith('rest:') && !restUserInfoInUrl(location)) {
    if (env.RESTIC_REST_USERNAME) creds.REST_SERVER_USERNAME = env.RESTIC_REST_USERNAME;
    if (env.RESTIC_REST_PASSWORD) creds.REST_SERVER_PASSWORD = env.RESTIC_REST_PASSWORD;
  }
  return creds;
}
