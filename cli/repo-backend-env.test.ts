import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendCredentials, parseExtendedOptions, parseSharedCredentials } from './repo-backend-env.ts';

describe('restic storage variables', () => {
  it('reads a profile of a shared credentials file', () => {
    const text = '# comment\n[default]\naws_access_key_id = A\n\n[ backup ]\nAWS_ACCESS_KEY_ID=B\naws_secret_access_key = s=with=equals\n; other\n[other]\naws_access_key_id = C\n';
    assert.deepEqual(parseSharedCredentials(text, 'default'), { aws_access_key_id: 'A' });
    assert.deepEqual(parseSharedCredentials(text, 'backup'), { aws_access_key_id: 'B', aws_secret_access_key: 's=with=equals' });
    assert.equal(parseSharedCredentials(text, 'nosuch'), undefined);
  });

  it('maps -o options and refuses unknown ones', () => {
    assert.deepEqual(parseExtendedOptions(['s3.region=eu-west-1', 's3.bucket-lookup=dns']), { AWS_REGION: 'eu-west-1', S3_BUCKET_LOOKUP: 'dns' });
    assert.throws(() => parseExtendedOptions(['s3.storage-class=GLACIER']), /KEY one of s3\.region, s3\.bucket-lookup/);
    assert.throws(() => parseExtendedOptions(['s3.region']), /KEY=VALUE/);
  });

  const table: [string, string, Record<string, string>, Record<string, string>][] = [
    ['s3 keys, token and region', 's3:https://h/b', { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't', AWS_DEFAULT_REGION: 'eu-west-1', AWS_REGION: 'ignored' }, { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't', AWS_REGION: 'eu-west-1' }],
    ['minio spelling', 's3:https://h/b', { AWS_ACCESS_KEY: 'k', AWS_SECRET_KEY: 's' }, { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' }],
    ['half a pair names what is missing', 's3:https://h/b', { AWS_ACCESS_KEY_ID: 'k', HOME: '/nonexistent' }, { AWS_ACCESS_KEY_ID: 'k' }],
    ['rest from variables', 'rest:http://h:1/r/', { RESTIC_REST_USERNAME: 'u', RESTIC_REST_PASSWORD: 'p' }, { REST_SERVER_USERNAME: 'u', REST_SERVER_PASSWORD: 'p' }],
    ['rest URL user wins', 'rest:http://x:y@h:1/r/', { RESTIC_REST_USERNAME: 'u', RESTIC_REST_PASSWORD: 'p' }, {}],
    ['s3 variables do not leak to rest', 'rest:http://h:1/r/', { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' }, {}],
    ['nothing for a local path', '/var/backups/r', { AWS_ACCESS_KEY_ID: 'k', RESTIC_REST_USERNAME: 'u' }, {}],
  ];
  for (const [name, location, env, want] of table) {
    it(name, async () => assert.deepEqual(await backendCredentials(location, {}, env), want));
  }
});
