// What a killed backup leaves behind below the repository's files: temporary files of the local
// backend and multipart uploads never completed nor aborted on S3. prune removes them once they
// are an hour old (never a save under way), and nothing that is not the repository's.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { S3Backend } from '../common/backend/s3/s3-backend.ts';
import { S3Client, xml } from '../common/backend/s3/s3-client.ts';
import { parseS3Location } from '../common/backend/s3/s3-config.ts';
import { prune } from '../common/repository/prune.ts';
import { Repository } from '../common/repository/repository.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { MiB, incompressible } from './helpers/backend-faults.ts';
import { restic } from './helpers/restic.ts';
import { startS3Server } from './helpers/s3-server.ts';
import type { S3Server } from './helpers/s3-server.ts';
import { tempDir } from './helpers/tmp.ts';

const PASSWORD = 'pw-leftovers';
const fastKdf = { scrypt: { N: 1024, r: 8, p: 1 } };
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

describe('leftovers of interrupted saves', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: S3Server;
  before(async () => {
    dir = await tempDir();
    server = await startS3Server();
  });
  after(async () => {
    await server?.stop();
    await dir?.cleanup();
  });

  it('local: prune removes temporary files older than an hour, and only those', async () => {
    const path = join(dir.path, 'local');
    const repo = await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    await writeSnapshot(repo, incompressible(MiB), { filename: 'dumpfile.sql' });
    const id = hex(32);
    const old = [join('data', id.slice(0, 2), `${id}.tmp-${hex(6)}`), join('index', `${hex(32)}.tmp-${hex(6)}`), `config.tmp-${hex(6)}`];
    const fresh = join('data', 'cd', `cd${hex(31)}.tmp-${hex(6)}`);
    const notOurs = [join('data', 'ab', 'notes.tmp-by-hand.txt'), 'README'];
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    for (const f of [...old, fresh, ...notOurs]) {
      await mkdir(join(path, f, '..'), { recursive: true });
      await writeFile(join(path, f), 'partial pack');
      if (f !== fresh) await utimes(join(path, f), twoHoursAgo, twoHoursAgo);
    }
    const result = await prune(await Repository.open(new LocalBackend(path), PASSWORD));
    assert.equal(result.leftoversRemoved, old.length, JSON.stringify(result));
    const left = (await readdir(path, { recursive: true })).filter((f) => f.includes('.tmp-') || f === 'README');
    assert.deepEqual(left.sort(), [fresh, ...notOurs].sort());
    const r = await restic(path, PASSWORD, ['check', '--read-data']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
  });

  it('S3: incomplete multipart uploads of the repository are aborted once old enough; fresh ones and others\' stay', async () => {
    const creds = { AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey };
    const backend = new S3Backend(parseS3Location(`s3:${server.endpoint}/leftovers/repo`, creds));
    const repo = await Repository.init(backend, PASSWORD, fastKdf);
    const client = new S3Client(parseS3Location(`s3:${server.endpoint}/leftovers`, creds));
    const start = async (key: string): Promise<void> => {
      await client.send({ method: 'POST', key, query: { uploads: '' } });
    };
    const open = async (): Promise<string[]> => {
      const res = await client.send({ method: 'GET', key: '', query: { uploads: '' } });
      const u = (xml.parse(res.body.toString('utf8')) as { ListMultipartUploadsResult?: { Upload?: { Key: string } | { Key: string }[] } }).ListMultipartUploadsResult?.Upload;
      return [u ?? []].flat().map((x) => x.Key).sort();
    };
    try {
      const id = hex(32);
      const ours = [`repo/data/${id.slice(0, 2)}/${id}`, `repo/index/${hex(32)}`];
      const others = [`other/data/${id.slice(0, 2)}/${id}`, 'repo/notes/x', 'repository/data/ab/x'];
      for (const key of [...ours, ...others]) await start(key);
      // prune's hour: these uploads are fresh (a save may still be under way), so they stay.
      const pruned = await prune(repo);
      assert.equal(pruned.leftoversRemoved, 0, JSON.stringify(pruned));
      assert.deepEqual(await open(), [...ours, ...others].sort());
      // Once old enough (here: any age), the repository's uploads are aborted, no one else's.
      assert.equal(await backend.removeLeftovers(0), ours.length);
      assert.deepEqual(await open(), others.sort());
    } finally {
      await client.close();
      await backend.close();
    }
  });
});
