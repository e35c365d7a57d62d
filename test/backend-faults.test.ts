// S3 failures in the middle of an upload, against a real server (versitygw) behind
// test/helpers/faulty-proxy.ts: a multipart part that keeps failing, a cancelled multipart
// upload, a 200 answer carrying an <Error>, a lost answer, HTTP 429 with Retry-After, listings
// over 1,000 keys (the REST backend's: backend-faults-rest.test.ts). A failed backup leaves no snapshot, no lock and no multipart
// upload; `restic check` passes and the next prune removes the orphaned packs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RetryPolicy } from '../common/backend/retry.ts';
import { S3Backend } from '../common/backend/s3/s3-backend.ts';
import { S3Client, xml } from '../common/backend/s3/s3-client.ts';
import { parseS3Location } from '../common/backend/s3/s3-config.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { prune } from '../common/repository/prune.ts';
import { Repository } from '../common/repository/repository.ts';
import { listSnapshots } from '../common/repository/snapshot.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { MiB, incompressible, names, query, saveMany, throttledOnce } from './helpers/backend-faults.ts';
import { startFaultyProxy } from './helpers/faulty-proxy.ts';
import type { FaultyProxy } from './helpers/faulty-proxy.ts';
import { restic } from './helpers/restic.ts';
import { startS3Server } from './helpers/s3-server.ts';
import type { S3Server } from './helpers/s3-server.ts';

const PASSWORD = 'pw-backend-faults';
const fastKdf = { scrypt: { N: 1024, r: 8, p: 1 } };
const FAST: RetryPolicy = { attempts: 4, baseDelayMs: 10, maxDelayMs: 50 };
/** Objects from 6 MiB are uploaded in 5 MiB parts, so every 8 MiB data pack is a multipart upload. */
const MULTIPART = { S3_MULTIPART_THRESHOLD_BYTES: String(6 * MiB), S3_PART_SIZE_BYTES: String(5 * MiB) };

let server: S3Server;
let proxy: FaultyProxy;
const creds = (): Record<string, string> => ({ AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey });
/** A backend for `bucket` through the proxy (faults) or straight to the server. */
const s3 = (bucket: string, via: 'proxy' | 'direct' = 'proxy', extra: Record<string, string> = {}): S3Backend =>
  new S3Backend(parseS3Location(`s3:${via === 'proxy' ? proxy.url : server.endpoint}/${bucket}`, { ...creds(), ...extra }), FAST);




/** Multipart uploads started and neither completed nor aborted (asked of the server, not the proxy). */
async function openUploads(bucket: string): Promise<number> {
  const client = new S3Client(parseS3Location(`s3:${server.endpoint}/${bucket}`, creds()));
  try {
    const res = await client.send({ method: 'GET', key: '', query: { uploads: '' } });
    const upload = (xml.parse(res.body.toString('utf8')) as { ListMultipartUploadsResult?: { Upload?: unknown } }).ListMultipartUploadsResult?.Upload;
    return upload === undefined ? 0 : Array.isArray(upload) ? upload.length : 1;
  } finally {
    await client.close();
  }
}

async function resticCheckOk(bucket: string): Promise<void> {
  const r = await restic(`s3:${server.endpoint}/${bucket}`, PASSWORD, ['check', '--read-data'], undefined, creds());
  assert.equal(r.code, 0, r.stderr + r.stdout);
}

before(async () => {
  server = await startS3Server();
  proxy = await startFaultyProxy(server.endpoint);
});
after(async () => {
  await proxy?.stop();
  await server?.stop();
});

describe('S3 multipart upload failing mid-backup', () => {
  for (const fault of ['500', 'reset'] as const) {
    it(`a part answering ${fault === '500' ? '500s' : 'with connection resets'} fails the backup: no snapshot, no lock, no open upload, check clean, unused packs pruned`, async () => {
      const bucket = `multipart-${fault}`;
      const repo = await Repository.init(s3(bucket, 'proxy', MULTIPART), PASSWORD, fastKdf);
      const uploadIds: string[] = [];
      let partFaults = 0;
      let aborts = 0;
      // The first pack's upload goes through; from the second pack on, part 2 always fails. The
      // first abort of an upload fails too, so the abort must be retried.
      proxy.decide = (req) => {
        const q = query(req);
        const uploadId = q.get('uploadId');
        if (req.method === 'PUT' && uploadId && q.get('partNumber')) {
          if (!uploadIds.includes(uploadId)) uploadIds.push(uploadId);
          if (uploadIds.indexOf(uploadId) > 0 && q.get('partNumber') === '2') {
            partFaults++;
            return fault === '500' ? { kind: 'status', status: 500 } : { kind: 'reset' };
          }
        }
        if (req.method === 'DELETE' && uploadId && ++aborts === 1) return { kind: 'status', status: 500 };
        return undefined;
      };
      try {
        await assert.rejects(writeSnapshot(repo, incompressible(40 * MiB), { filename: 'dumpfile.sql' }), (err) => {
          assert.ok(isSidestashError(err, ErrorCodes.BACKEND_IO), String(err));
          assert.equal(err.retryable, true);
          assert.match(err.message, /upload part 2 of .*giving up after 4 attempts/);
          return true;
        });
      } finally {
        proxy.decide = () => undefined;
      }
      assert.equal(partFaults, 4, 'part 2 of the second pack was tried 4 times');
      assert.ok(aborts >= 2, `the failed abort was retried: ${aborts} aborts`);
      assert.deepEqual(await listSnapshots(repo), []);
      assert.deepEqual(await names(repo.backend, 'locks'), [], 'the lock is released');
      assert.equal(await openUploads(bucket), 0, 'the failed multipart upload is aborted, its parts gone');
      const orphans = await names(repo.backend, 'data');
      assert.ok(orphans.length >= 1, 'the first pack was stored before the failure');
      await resticCheckOk(bucket);
      const pruned = await prune(await Repository.open(s3(bucket, 'direct'), PASSWORD));
      // The failed backup indexed the packs it had stored (for the next one to reuse): prune
      // removes them as unused rather than as orphans.
      assert.equal(pruned.packsRemoved + pruned.orphanedPacksRemoved, orphans.length, JSON.stringify(pruned));
      assert.deepEqual(await names(repo.backend, 'data'), []);
      // The repository takes the next backup, and restic reads it.
      await writeSnapshot(repo, incompressible(10 * MiB), { filename: 'dumpfile.sql' });
      await resticCheckOk(bucket);
      assert.equal(await openUploads(bucket), 0);
      await repo.backend.close();
    });
  }
  it('a backup cancelled during a multipart upload aborts the upload and releases its lock', async () => {
    const bucket = 'multipart-cancel';
    const repo = await Repository.init(s3(bucket, 'proxy', MULTIPART), PASSWORD, fastKdf);
    const cancel = new AbortController();
    const uploadIds: string[] = [];
    // The second pack's parts are held back a little; the backup is cancelled while they are on the way.
    proxy.decide = (req) => {
      const q = query(req);
      const uploadId = q.get('uploadId');
      if (req.method !== 'PUT' || !uploadId || !q.get('partNumber')) return undefined;
      if (!uploadIds.includes(uploadId)) uploadIds.push(uploadId);
      if (uploadIds.indexOf(uploadId) === 0) return undefined;
      cancel.abort(new Error('cancelled by the test'));
      return { kind: 'delay', ms: 200 };
    };
    try {
      await assert.rejects(writeSnapshot(repo, incompressible(40 * MiB), { filename: 'dumpfile.sql', signal: cancel.signal }), (err) => {
        // pipeline() rejects with its AbortError, whose cause is the cancellation's reason.
        assert.equal((err as Error).name, 'AbortError', String(err));
        assert.match(String((err as Error).cause), /cancelled by the test/);
        return true;
      });
    } finally {
      proxy.decide = () => undefined;
    }
    assert.ok(uploadIds.length >= 2, 'cancelled during the second upload');
    assert.deepEqual(await listSnapshots(repo), []);
    assert.deepEqual(await names(repo.backend, 'locks'), [], 'the lock is released');
    assert.equal(await openUploads(bucket), 0, 'the cancelled multipart upload is aborted');
    await resticCheckOk(bucket);
    await repo.backend.close();
  });
});

describe('S3 answers that are not what they seem', () => {
  it('a 200 answer to CompleteMultipartUpload carrying an <Error> is a failure, tried again', async () => {
    const b = s3('complete-error', 'proxy', MULTIPART);
    await b.create();
    const errorDoc = '<?xml version="1.0" encoding="UTF-8"?>\n\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>';
    let completes = 0;
    proxy.decide = (req) => (req.method === 'POST' && query(req).has('uploadId') && ++completes === 1 ? { kind: 'status', status: 200, body: errorDoc } : undefined);
    const data = randomBytes(11 * MiB);
    const name = randomBytes(32).toString('hex');
    try {
      await b.save({ type: 'data', name }, data);
    } finally {
      proxy.decide = () => undefined;
    }
    assert.equal(completes, 2, 'the upload was completed on the second try');
    assert.ok(Buffer.from(await b.load({ type: 'data', name })).equals(data));
    await b.close();
  });

  it('a CompleteMultipartUpload that keeps answering 200 with an <Error>, or 200 with nothing, fails the save and leaves nothing behind', async () => {
    const b = s3('complete-error-always', 'proxy', MULTIPART);
    await b.create();
    for (const body of ['<Error><Code>InternalError</Code><Message>injected</Message></Error>', '']) {
      proxy.decide = (req) => (req.method === 'POST' && query(req).has('uploadId') ? { kind: 'status', status: 200, body } : undefined);
      const name = randomBytes(32).toString('hex');
      try {
        await assert.rejects(b.save({ type: 'data', name }, randomBytes(11 * MiB)), (err) => {
          assert.ok(isSidestashError(err, ErrorCodes.BACKEND_IO), String(err));
          assert.match(err.message, body ? /completing the upload failed: 200 InternalError: injected/ : /answered 200 without a result/);
          assert.match(err.message, /giving up after 4 attempts/);
          return true;
        });
      } finally {
        proxy.decide = () => undefined;
      }
      await assert.rejects(b.stat({ type: 'data', name }), (err) => isSidestashError(err, ErrorCodes.BACKEND_NOT_FOUND));
      assert.equal(await openUploads('complete-error-always'), 0);
    }
    await b.close();
  });

  it('a completed upload whose answer was lost is a success, not a failed backup', async () => {
    const b = s3('complete-lost', 'proxy', MULTIPART);
    await b.create();
    // The retried CompleteMultipartUpload is answered as versitygw and AWS may (200 again), or as
    // servers that have forgotten the upload do (404 NoSuchUpload).
    for (const retryAnswer of ['server', 'NoSuchUpload'] as const) {
      let completes = 0;
      proxy.decide = (req) => {
        if (req.method !== 'POST' || !query(req).has('uploadId')) return undefined;
        completes++;
        if (completes === 1) return { kind: 'lose-answer' };
        return retryAnswer === 'NoSuchUpload' ? { kind: 'status', status: 404, body: '<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>' } : undefined;
      };
      const data = randomBytes(11 * MiB);
      const name = randomBytes(32).toString('hex');
      try {
        await b.save({ type: 'data', name }, data);
      } finally {
        proxy.decide = () => undefined;
      }
      assert.equal(completes, 2, retryAnswer);
      assert.ok(Buffer.from(await b.load({ type: 'data', name })).equals(data), retryAnswer);
      assert.equal(await openUploads('complete-lost'), 0, retryAnswer);
    }
    await b.close();
  });
});


describe('HTTP 429 with Retry-After', () => {
  it('S3: is retried after the server\'s Retry-After, then succeeds', async () => {
    const b = s3('throttled');
    await b.create();
    const waitedMs = await throttledOnce(proxy, b, (req) => req.method === 'PUT' && /\/data\//.test(req.url ?? ''));
    // The policy alone would wait 5-10 ms; setTimeout may fire a millisecond early.
    assert.ok(waitedMs >= 990, `waited ${waitedMs} ms before the retry`);
    await b.close();
  });

});



describe('S3 listings over 1,000 keys', () => {
  it('list() follows continuation tokens and returns every file', async () => {
    const direct = s3('many', 'direct');
    await direct.create();
    const ids = await saveMany(direct, 1100);
    await direct.close();
    let pages = 0;
    proxy.decide = (req) => {
      if (req.method === 'GET' && query(req).get('list-type') === '2') pages++;
      return undefined;
    };
    const b = s3('many');
    try {
      const listed: { name: string; sizeBytes: number }[] = [];
      for await (const f of b.list('data')) listed.push(f);
      assert.deepEqual(listed.map((f) => f.name).sort(), ids);
      assert.ok(listed.every((f) => f.sizeBytes === 64));
      assert.ok(pages >= 2, `the listing came in ${pages} pages`);
    } finally {
      proxy.decide = () => undefined;
    }
    await b.close();
  });

  it('a truncated listing without a continuation token is an error, not a short list', async () => {
    const b = s3('many');
    proxy.decide = (req) =>
      req.method === 'GET' && query(req).get('list-type') === '2'
        ? { kind: 'status', status: 200, body: `<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>data/ab/${'ab'.repeat(32)}</Key><Size>1</Size></Contents></ListBucketResult>` }
        : undefined;
    try {
      await assert.rejects(names(b, 'data'), (err) => isSidestashError(err, ErrorCodes.BACKEND_IO) && /truncated but has no continuation token/.test(err.message));
    } finally {
      proxy.decide = () => undefined;
    }
    await b.close();
  });
});
