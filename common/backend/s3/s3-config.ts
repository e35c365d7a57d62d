// S3 backend settings from a location ("s3:https://host[:port]/bucket[/prefix]") and the
// storage secret's keys (Stash's names: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN, AWS_REGION, CA_CERT_DATA; ours: S3_BUCKET_LOOKUP = auto | path | dns).
import { ErrorCodes, SidestashError } from '../../errors.ts';

export interface S3Config {
  endpoint: URL;
  bucket: string;
  prefix: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Path style (https://host/bucket/key) or virtual-host style (https://bucket.host/key). */
  pathStyle: boolean;
  caCert?: string;
  /** Objects at least this large are uploaded in parts. */
  multipartThresholdBytes: number;
  partSizeBytes: number;
  /** How long a request's connection may stay silent (nothing sent nor received) before it fails, retryable. */
  requestTimeoutMs: number;
}

export function parseS3Location(location: string, credentials: Record<string, string>): S3Config {
  const problems: string[] = [];
  let rest = location.replace(/^s3:/, '');
  if (!/^https?:\/\//.test(rest)) rest = `https://${rest}`;
  let url: URL | undefined;
  try {
    url = new URL(rest);
  } catch {
    problems.push(`location: ${JSON.stringify(location)} is not s3:https://host/bucket[/prefix]`);
  }
  const [bucket = '', ...prefixParts] = (url?.pathname ?? '').split('/').filter(Boolean);
  if (url && !bucket) problems.push('location: no bucket after the endpoint');
  const accessKeyId = credentials.AWS_ACCESS_KEY_ID ?? '';
  const secretAccessKey = credentials.AWS_SECRET_ACCESS_KEY ?? '';
  if (!accessKeyId) problems.push('AWS_ACCESS_KEY_ID: required for S3');
  if (!secretAccessKey) problems.push('AWS_SECRET_ACCESS_KEY: required for S3');
  const lookup = credentials.S3_BUCKET_LOOKUP ?? 'auto';
  if (!['auto', 'path', 'dns'].includes(lookup)) problems.push('S3_BUCKET_LOOKUP: must be auto, path or dns');
  if (problems.length > 0 || !url) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `S3 repository: ${problems.join('; ')}`, { details: { problems } });
  const endpoint = new URL(`${url.protocol}//${url.host}`);
  const isAws = /(^|\.)amazonaws\.com(\.cn)?$/.test(url.hostname);
  const config: S3Config = {
    endpoint,
    bucket,
    prefix: prefixParts.join('/'),
    region: credentials.AWS_REGION ?? credentials.AWS_DEFAULT_REGION ?? 'us-east-1',
    accessKeyId,
    secretAccessKey,
    // restic's "auto": virtual-host style on AWS, path style elsewhere (MinIO, Ceph, ...).
    pathStyle: lookup === 'path' || (lookup === 'auto' && !isAws),
    multipartThresholdBytes: Number(credentials.S3_MULTIPART_THRESHOLD_BYTES ?? 16 * 1024 * 1024),
    partSizeBytes: Math.max(5 * 1024 * 1024, Number(credentials.S3_PART_SIZE_BYTES ?? 8 * 1024 * 1024)),
    requestTimeoutMs: 120_000,
  };
  if (credentials.AWS_SESSION_TOKEN) config.sessionToken = credentials.AWS_SESSION_TOKEN;
  if (credentials.CA_CERT_DATA) config.caCert = credentials.CA_CERT_DATA;
  return config;
}
