// `sidestash repo` on S3 (versitygw) and REST (rclone serve restic) servers, through the real
// CLI process, with the storage credentials in restic's environment variables: every verb,
// the CA file option, the shared credentials file, and the refusals. restic 0.14 reads the
// same repository with the same environment.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanEnv, runCliProcess } from './helpers/cli-process.ts';
import type { CliResult } from './helpers/cli-process.ts';
import { startRestServer } from './helpers/rest-server.ts';
import type { RestServer } from './helpers/rest-server.ts';
import { runRestic } from './helpers/restic.ts';
import { startS3Server } from './helpers/s3-server.ts';
import type { S3Server } from './helpers/s3-server.ts';
import { makeTestPki } from './helpers/tls.ts';
import type { TestPki } from './helpers/tls.ts';
import { tempDir } from './helpers/tmp.ts';

const PASSWORD = 'repo-cli-backends-password';
let s3: S3Server;
let s3Tls: S3Server;
let rest: RestServer;
let pki: TestPki;
let tmp: { path: string; cleanup: () => Promise<void> };
let bucketNo = 0;

before(async () => {
  tmp = await tempDir('sidestash-repo-cli-');
  pki = await makeTestPki(tmp.path);
  [s3, s3Tls, rest] = await Promise.all([startS3Server(), startS3Server(pki), startRestServer()]);
});
after(async () => {
  await Promise.all([s3?.stop(), s3Tls?.stop(), rest?.stop()]);
  await tmp?.cleanup();
});

const s3Env = (): Record<string, string> => ({ AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey });

function repo(location: string, env: Record<string, string>) {
  return (args: string[], input?: string): Promise<CliResult> => runCliProcess(['repo', ...args], { env: { RESTIC_REPOSITORY: location, RESTIC_PASSWORD: PASSWORD, ...env }, ...(input !== undefined ? { input } : {}) });
}

function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);
  return r;
}

/** Every verb of `sidestash repo`, in the order a person uses them. */
async function everyVerb(run: ReturnType<typeof repo>): Promise<string[]> {
  const init = JSON.parse(ok(await run(['init', '--json']), 'init').stdout) as { id: string };
  assert.match(init.id, /^[0-9a-f]{64}$/);
  const first = { snapshotId: (JSON.parse(ok(await run(['backup', '--json', '--stdin-filename', 'db.sql', '--host', 'h1', '--tag', 't1'], 'first dump\n'), 'backup').stdout) as { snapshot_id: string }).snapshot_id };
  const second = { snapshotId: (JSON.parse(ok(await run(['backup', '--json', '--stdin-filename', 'db.sql', '--host', 'h1'], 'second dump\n'), 'backup 2').stdout) as { snapshot_id: string }).snapshot_id };
  const snaps = JSON.parse(ok(await run(['snapshots', '--json']), 'snapshots').stdout) as { id: string }[];
  assert.deepEqual(snaps.map((s) => s.id).sort(), [first.snapshotId, second.snapshotId].sort());
  assert.equal(ok(await run(['dump', 'latest', 'db.sql']), 'dump').stdout, 'second dump\n');
  assert.equal(ok(await run(['dump', first.snapshotId.slice(0, 8), 'db.sql']), 'dump by id').stdout, 'first dump\n');
  ok(await run(['check', '--read-data']), 'check');
  const forget = JSON.parse(ok(await run(['forget', '--json', '--keep-last', '1']), 'forget').stdout) as { remove: { id: string }[] | null }[];
  assert.deepEqual(forget.flatMap((g) => g.remove ?? []).map((s) => s.id), [first.snapshotId]);
  ok(await run(['prune']), 'prune');
  ok(await run(['check', '--read-data-subset', '1/1']), 'check after prune');
  assert.deepEqual(JSON.parse(ok(await run(['unlock', '--remove-all', '--json']), 'unlock').stdout), { message_type: 'summary', removed_locks: 0 });
  return [second.snapshotId];
}

describe('sidestash repo on S3, credentials from the environment as restic reads them', () => {
  it('runs every verb with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_DEFAULT_REGION, and restic reads the repository with the same variables', async () => {
    const location = `s3:${s3.endpoint}/verbs-${bucketNo++}/sub`;
    const env = { ...s3Env(), AWS_DEFAULT_REGION: 'us-east-1' };
    const kept = await everyVerb(repo(location, env));
    const r = await runRestic('restic', location, PASSWORD, ['snapshots', '--json'], undefined, cleanEnv(env));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { id: string }[]).map((s) => s.id), kept);
  });

  it('takes minio\'s AWS_ACCESS_KEY / AWS_SECRET_KEY, and the profile of a shared credentials file', async () => {
    const location = `s3:${s3.endpoint}/alt-${bucketNo++}`;
    ok(await repo(location, { AWS_ACCESS_KEY: s3.accessKeyId, AWS_SECRET_KEY: s3.secretAccessKey })(['init']), 'init with AWS_ACCESS_KEY');
    const file = join(tmp.path, 'aws-credentials');
    await writeFile(file, `[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n\n[backup]\naws_access_key_id = ${s3.accessKeyId}\naws_secret_access_key = ${s3.secretAccessKey}\n`);
    ok(await repo(location, { AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: 'backup' })(['snapshots']), 'snapshots with AWS_PROFILE');
    // The default profile's key is unknown to the server: an error, not "no repository" (exit 10).
    const wrongProfile = await repo(location, { AWS_SHARED_CREDENTIALS_FILE: file })(['snapshots']);
    assert.equal(wrongProfile.code, 1, wrongProfile.stderr);
    assert.doesNotMatch(wrongProfile.stderr, /NOT_A_REPOSITORY/);
    const missing = await repo(location, { AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: 'nosuch' })(['snapshots']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no profile \\"nosuch\\"/);
  });

  it('refuses without keys, naming the variable, and with a wrong secret', async () => {
    const location = `s3:${s3.endpoint}/refused-${bucketNo++}`;
    const none = await repo(location, { HOME: tmp.path })(['snapshots']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /AWS_ACCESS_KEY_ID/);
    const half = await repo(location, { HOME: tmp.path, AWS_ACCESS_KEY_ID: s3.accessKeyId })(['snapshots']);
    assert.match(half.stderr, /AWS_SECRET_ACCESS_KEY: required/);
    assert.doesNotMatch(half.stderr, /AWS_ACCESS_KEY_ID: required/);
    const wrong = await repo(location, { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: 'not-the-secret' })(['init']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /403|SignatureDoesNotMatch|denied/i);
  });

  it('trusts a private CA from RESTIC_CACERT or --cacert, and not without it', async () => {
    const caFile = join(tmp.path, 'ca.crt');
    await writeFile(caFile, pki.caCert);
    const location = `s3:${s3Tls.endpoint}/tls-${bucketNo++}`;
    const env = { AWS_ACCESS_KEY_ID: s3Tls.accessKeyId, AWS_SECRET_ACCESS_KEY: s3Tls.secretAccessKey };
    ok(await repo(location, { ...env, RESTIC_CACERT: caFile })(['init']), 'init with RESTIC_CACERT');
    ok(await repo(location, env)(['--cacert', caFile, 'snapshots']), 'snapshots with --cacert');
    const without = await repo(location, env)(['snapshots']);
    assert.equal(without.code, 1);
    assert.match(without.stderr, /certificate/i);
    const unreadable = await repo(location, { ...env, RESTIC_CACERT: join(tmp.path, 'nosuch.crt') })(['snapshots']);
    assert.equal(unreadable.code, 2);
    assert.match(unreadable.stderr, /RESTIC_CACERT: cannot read/);
  });

  it('applies -o s3.bucket-lookup and refuses an unknown -o key', async () => {
    const location = `s3:${s3.endpoint}/lookup-${bucketNo++}`;
    ok(await repo(location, s3Env())(['-o', 's3.bucket-lookup=path', 'init']), 'init path style');
    const bad = await repo(location, s3Env())(['-o', 's3.nosuch=1', 'snapshots']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /s3\.bucket-lookup/);
  });
});

describe('sidestash repo on a REST server', () => {
  it('runs every verb with RESTIC_REST_USERNAME / RESTIC_REST_PASSWORD, and restic reads the repository with the same variables', async () => {
    const location = `rest:${rest.url}/verbs-env/`;
    const env = { RESTIC_REST_USERNAME: rest.username, RESTIC_REST_PASSWORD: rest.password };
    const kept = await everyVerb(repo(location, env));
    const r = await runRestic('restic', location, PASSWORD, ['snapshots', '--json'], undefined, cleanEnv(env));
    // restic 0.14 predates RESTIC_REST_USERNAME: it reads with the credentials in the URL.
    const withUrl = r.code === 0 ? r : await runRestic('restic', `rest:${rest.url.replace('://', `://${rest.username}:${rest.password}@`)}/verbs-env/`, PASSWORD, ['snapshots', '--json'], undefined, cleanEnv());
    assert.equal(withUrl.code, 0, withUrl.stderr);
    assert.deepEqual((JSON.parse(withUrl.stdout) as { id: string }[]).map((s) => s.id), kept);
  });

  it('runs every verb with user:pass in the URL, which wins over the variables', async () => {
    const location = `rest:${rest.url.replace('://', `://${rest.username}:${rest.password}@`)}/verbs-url/`;
    await everyVerb(repo(location, { RESTIC_REST_USERNAME: 'someone-else', RESTIC_REST_PASSWORD: 'wrong' }));
  });

  it('refuses without credentials and with a wrong password', async () => {
    const none = await repo(`rest:${rest.url}/refused/`, {})(['init']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /401/);
    const wrong = await repo(`rest:${rest.url}/refused/`, { RESTIC_REST_USERNAME: rest.username, RESTIC_REST_PASSWORD: 'wrong' })(['init']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /401/);
  });
});
