// Key files are plain JSON anyone with write access to the storage can add: their scrypt
// parameters are bounded before any memory or CPU is spent, and a refused key file does not
// stop the search for the right one.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../errors.ts';
import { createKeyFile, openKeyFile, scryptParamsProblem } from './key-file.ts';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalBackend } from '../backend/local/local-backend.ts';
import { Repository } from './repository.ts';

const master = { encrypt: Buffer.alloc(32, 1), macK: Buffer.alloc(16, 2), macR: Buffer.alloc(16, 3) };

it('bounds scrypt parameters on a table', () => {
  const cases: [{ N: unknown; r: unknown; p: unknown }, number, RegExp | undefined][] = [
    [{ N: 1 << 15, r: 8, p: 1 }, 64, undefined], // restic's usual calibration
    [{ N: 1 << 20, r: 2, p: 2 }, 64, undefined],
    [{ N: 1 << 22, r: 8, p: 1 }, 64, /power of two from 2 to/], // 4 GiB
    [{ N: 1 << 20, r: 8, p: 1 }, 64, /MiB, more than 256 MiB/],
    [{ N: 1 << 15, r: 16, p: 16 }, 64, /more work/],
    [{ N: 1 << 15, r: 8, p: 17 }, 64, /p must be/],
    [{ N: 3000, r: 8, p: 1 }, 64, /power of two/],
    [{ N: 1 << 15, r: 0, p: 1 }, 64, /r must be/],
    [{ N: '32768', r: 8, p: 1 }, 64, /integers/],
    [{ N: 1 << 15, r: 8, p: 1 }, 4, /salt/],
  ];
  for (const [params, salt, want] of cases) {
    const got = scryptParamsProblem(params, salt);
    if (want) assert.match(got ?? '', want, JSON.stringify(params));
    else assert.equal(got, undefined, JSON.stringify(params));
  }
});

it('refuses a key file asking for gigabytes at once, and finds the right key behind it', async () => {
  const good = await createKeyFile('pw', master, { N: 1024, r: 8, p: 1 });
  const hostile = Buffer.from(JSON.stringify({ kdf: 'scrypt', N: 1 << 25, r: 8, p: 1, salt: Buffer.alloc(64).toString('base64'), data: 'AAAA' }));
  const started = Date.now();
  await assert.rejects(openKeyFile(hostile, 'pw', 'hostile'), (err) => isSidestashError(err, ErrorCodes.UNSUPPORTED_REPOSITORY) && /scrypt parameters refused/.test(err.message));
  assert.ok(Date.now() - started < 1000, 'refused before deriving anything');
  assert.deepEqual(await openKeyFile(good.bytes, 'pw', 'good'), master);
  // In a repository, the hostile file sorts first and is passed over.
  const dir = await mkdtemp(join(tmpdir(), 'sidestash-keys-'));
  try {
    const repo = await Repository.init(new LocalBackend(dir), 'pw', { scrypt: { N: 1024, r: 8, p: 1 } });
    await writeFile(join(dir, 'keys', '0'.repeat(64)), hostile);
    const opened = await Repository.open(new LocalBackend(dir), 'pw');
    assert.equal(opened.config.id, repo.config.id);
    await assert.rejects(Repository.open(new LocalBackend(dir), 'not the password'), (err) => isSidestashError(err, ErrorCodes.WRONG_PASSWORD) && /passed over: key 0{64}: scrypt parameters refused/.test(err.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
