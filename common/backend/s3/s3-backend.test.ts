import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startS3Server } from '../../../test/helpers/s3-server.ts';
import type { S3Server } from '../../../test/helpers/s3-server.ts';
import { backendContract } from '../contract.ts';
import { S3Backend } from './s3-backend.ts';
import { parseS3Location } from './s3-config.ts';

let server: S3Server;
let bucketNo = 0;
const creds = () => ({ AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey });

before(async () => {
  server = await startS3Server();
});
after(() => server.stop());

backendContract('s3 (versitygw)', async () => {
  const backend = new S3Backend(parseS3Location(`s3:${server.endpoint}/contract-${bucketNo++}/some/prefix`, creds()));
  return { backend, cleanup: async () => {} };
});

describe('s3 backend', () => {
  it('parses locations and reports every missing setting', () => {
    const c = parseS3Location('s3:https://s3.eu-central-1.amazonaws.com/bucket/a/b', { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', AWS_REGION: 'eu-central-1' });
    assert.equal(c.bucket, 'bucket');
    assert.equal(c.prefix, 'a/b');
    assert.equal(c.pathStyle, false, 'virtual-host style on AWS');
    assert.equal(parseS3Location('s3:http://minio:9000/b', { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' }).pathStyle, true);
    assert.equal(parseS3Location('s3:https://r2.example/b', { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', S3_BUCKET_LOOKUP: 'dns' }).pathStyle, false);
    assert.throws(() => parseS3Location('s3:http://host', {}), (err: Error) => /bucket/.test(err.message) && /AWS_ACCESS_KEY_ID/.test(err.message) && /AWS_SECRET_ACCESS_KEY/.test(err.message));
  });

  it('uploads large files in parts and reads ranges across part boundaries', async () => {
    const backend = new S3Backend(parseS3Location(`s3:${server.endpoint}/multipart`, { ...creds(), S3_MULTIPART_THRESHOLD_BYTES: String(6 * 1024 * 1024), S3_PART_SIZE_BYTES: String(5 * 1024 * 1024) }));
    await backend.create();
    const data = randomBytes(13 * 1024 * 1024 + 17);
    const name = randomBytes(32).toString('hex');
    await backend.save({ type: 'data', name }, data);
    assert.equal((await backend.stat({ type: 'data', name })).sizeBytes, data.length);
    const range = await backend.load({ type: 'data', name }, { offset: 5 * 1024 * 1024 - 10, length: 20 });
    assert.deepEqual(Buffer.from(range), data.subarray(5 * 1024 * 1024 - 10, 5 * 1024 * 1024 + 10));
    assert.ok(Buffer.from(await backend.load({ type: 'data', name })).equals(data));
    await backend.close();
  });

  it('refuses wrong credentials without retrying forever', async () => {
    const backend = new S3Backend(parseS3Location(`s3:${server.endpoint}/creds`, { AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: 'wrong-secret' }));
    const started = Date.now();
    await assert.rejects(backend.create(), (err: Error & { retryable?: boolean }) => err.retryable === false && /403/.test(err.message));
    assert.ok(Date.now() - started < 5000);
    await backend.close();
  });
});

describe('s3 backend faults', () => {
  it('retries 500s, SlowDown and connection resets, resending bodies, then succeeds', async () => {
    const { startFaultyProxy } = await import('../../../test/helpers/faulty-proxy.ts');
    const proxy = await startFaultyProxy(server.endpoint);
    try {
      const backend = new S3Backend(parseS3Location(`s3:${proxy.url}/faults`, creds()), { attempts: 6, baseDelayMs: 10, maxDelayMs: 50 });
      await backend.create();
      // Every other request fails in turn: 500, SlowDown, reset.
      proxy.decide = (_req, n) => (n % 2 === 0 ? [{ kind: 'status', status: 500 } as const, { kind: 'status', status: 503, body: '<Error><Code>SlowDown</Code></Error>' } as const, { kind: 'reset' } as const][(n / 2) % 3] : undefined);
      const data = randomBytes(100_000);
      const name = randomBytes(32).toString('hex');
      await backend.save({ type: 'data', name }, data);
      assert.ok(Buffer.from(await backend.load({ type: 'data', name })).equals(data));
      assert.ok(proxy.stats.faults >= 2, JSON.stringify(proxy.stats));
      // A backend that keeps failing: a clear, retryable error after the attempts run out.
      proxy.decide = () => ({ kind: 'status', status: 500 });
      const before = proxy.stats.requests;
      await assert.rejects(backend.load({ type: 'data', name }), (err: Error & { retryable?: boolean }) => err.retryable === true && /giving up after 6 attempts/.test(err.message));
      assert.equal(proxy.stats.requests - before, 6);
      await backend.close();
    } finally {
      await proxy.stop();
    }
  });
});

describe('s3 backend over TLS', () => {
  it('trusts a private CA from CA_CERT_DATA and refuses the server without it', async () => {
    const { makeTestPki } = await import('../../../test/helpers/tls.ts');
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'sidestash-pki-'));
    const pki = await makeTestPki(dir);
    const tlsServer = await startS3Server(pki);
    try {
      const withCa = new S3Backend(parseS3Location(`s3:${tlsServer.endpoint}/tls`, { AWS_ACCESS_KEY_ID: tlsServer.accessKeyId, AWS_SECRET_ACCESS_KEY: tlsServer.secretAccessKey, CA_CERT_DATA: pki.caCert }));
      await withCa.create();
      await withCa.save({ type: 'keys', name: 'a'.repeat(64) }, Buffer.from('k'));
      assert.equal((await withCa.load({ type: 'keys', name: 'a'.repeat(64) })).length, 1);
      await withCa.close();
      const without = new S3Backend(parseS3Location(`s3:${tlsServer.endpoint}/tls`, { AWS_ACCESS_KEY_ID: tlsServer.accessKeyId, AWS_SECRET_ACCESS_KEY: tlsServer.secretAccessKey }));
      await assert.rejects(without.stat({ type: 'keys', name: 'a'.repeat(64) }), (err: Error & { retryable?: boolean }) => err.retryable === false && /certificate/i.test(err.message));
      await without.close();
    } finally {
      await tlsServer.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
