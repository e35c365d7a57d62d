// `check --read-data-subset` reads exactly the packs restic reads for "n/m", and as many as
// restic for "x%". Every pack of the repository is damaged in its header (its hash no longer
// matches its name; the blobs the structure check loads by index stay readable), so the packs
// a check reports are the packs it read, for us and for the real restic (0.14 on PATH, and
// 0.19.1 when scripts/setup.sh built it).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { check } from '../common/repository/check.ts';
import { Repository } from '../common/repository/repository.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { blockStream, plan } from './helpers/data.ts';
import { RESTIC_0_19, runRestic } from './helpers/restic.ts';
import { runCli } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

const PASSWORD = 'correct horse battery staple';
const MiB = 1024 * 1024;
const fastKdf = { scrypt: { N: 1024, r: 8, p: 1 } };
const RESTICS: [string, string][] = [['restic 0.14', 'restic'], ...(existsSync(RESTIC_0_19) ? [['restic 0.19.1', RESTIC_0_19] as [string, string]] : [])];
const SUBSETS = ['1/1', '1/2', '2/2', '1/3', '2/3', '3/3', '4/5', '3/16', '200/256'];

describe('check --read-data-subset against restic', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let path: string;
  let packIds: string[];

  before(async () => {
    dir = await tempDir();
    path = join(dir.path, 'repo');
    // A pinned chunker polynomial, so that the number of chunks does not vary from run to run.
    const repo = await Repository.init(new LocalBackend(path), PASSWORD, { ...fastKdf, chunkerPolynomial: 0x3da3358b4dc173n });
    // One blob per pack: some 40 packs from 40 MiB.
    await writeSnapshot(repo, blockStream(plan('subset', 40 * MiB)), { filename: 'dumpfile.sql', packSizeBytes: 1 });
    packIds = [];
    for (const sub of await readdir(join(path, 'data'))) {
      for (const name of await readdir(join(path, 'data', sub))) {
        packIds.push(name);
        const file = join(path, 'data', sub, name);
        const bytes = await readFile(file);
        // The last 4 bytes are the header's length; the byte before them is inside the encrypted header.
        bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0x01;
        await chmod(file, 0o600);
        await writeFile(file, bytes);
      }
    }
    assert.ok(packIds.length >= 20, `${packIds.length} packs`);
  });
  after(() => dir.cleanup());

  async function oursReported(subset: string): Promise<{ ids: Set<string>; read: number }> {
    const repo = await Repository.open(new LocalBackend(path), PASSWORD);
    const report = await check(repo, { readDataSubset: subset });
    const ids = new Set<string>();
    for (const e of report.errors) {
      const m = /^pack ([0-9a-f]{64}): /.exec(e);
      assert.ok(m, `only pack errors: ${e}`);
      ids.add(m[1]!);
    }
    assert.equal(ids.size, report.packsRead, 'every pack read is reported, and no other');
    return { ids, read: report.packsRead };
  }

  async function resticReported(bin: string, subset: string): Promise<Set<string>> {
    const r = await runRestic(bin, path, PASSWORD, ['check', `--read-data-subset=${subset}`]);
    const ids = new Set<string>();
    // restic names a damaged pack by its full or its short (8-digit) id.
    for (const hex of r.stderr.match(/\b[0-9a-f]{8}(?:[0-9a-f]{56})?\b/g) ?? []) {
      const full = packIds.filter((id) => id.startsWith(hex));
      if (full.length === 1) ids.add(full[0]!);
    }
    if (ids.size > 0) assert.notEqual(r.code, 0, r.stderr);
    return ids;
  }

  for (const [name, bin] of RESTICS) {
    it(`n/m: the same packs as ${name}`, async () => {
      for (const subset of SUBSETS) {
        const ours = await oursReported(subset);
        const theirs = await resticReported(bin, subset);
        assert.deepEqual([...ours.ids].sort(), [...theirs].sort(), subset);
      }
    });
  }

  it('n/m: 1/m .. m/m together read every pack once', async () => {
    const seen: string[] = [];
    for (let n = 1; n <= 3; n++) seen.push(...(await oursReported(`${n}/3`)).ids);
    assert.deepEqual(seen.sort(), [...packIds].sort());
  });

  it('x%: as many packs as restic 0.14 reads', async () => {
    for (const subset of ['10%', '50%', '0.1%', '100%']) {
      const ours = await oursReported(subset);
      const theirs = await resticReported('restic', subset);
      assert.equal(ours.read, theirs.size, subset);
    }
    assert.equal((await oursReported('100%')).read, packIds.length);
    assert.equal((await oursReported('0.1%')).read, 1);
  });

  it('the metadata check alone reads no pack and finds nothing wrong, as restic check', async () => {
    const repo = await Repository.open(new LocalBackend(path), PASSWORD);
    const report = await check(repo);
    assert.deepEqual(report.errors, []);
    assert.equal(report.packsRead, 0);
    const r = await runRestic('restic', path, PASSWORD, ['check']);
    assert.equal(r.code, 0, r.stderr);
  });

  it('sidestash repo check --read-data-subset reads the packs restic reads, and refuses a bad value with exit code 2', async () => {
    const env = { RESTIC_PASSWORD: PASSWORD };
    const ok = await runCli(['repo', 'check', '--json', '--read-data-subset', '2/3', '--repo', path], env);
    assert.equal(ok.code, 1, ok.stderr);
    // restic 0.19's check --json: one "error" message a line on stderr.
    const errors = ok.stderr.trim().split('\n').map((l) => JSON.parse(l) as { message_type?: string; message: string }).filter((m) => m.message_type === 'error');
    const ids = new Set(errors.map((e) => /^pack ([0-9a-f]{64}): /.exec(e.message)?.[1]));
    assert.deepEqual((JSON.parse(ok.stdout) as { broken_packs: string[] }).broken_packs, [...ids].sort());
    assert.deepEqual([...ids].sort(), [...(await resticReported('restic', '2/3'))].sort());
    for (const bad of ['0/3', '101%', '1/2/3']) {
      const r = await runCli(['repo', 'check', '--read-data-subset', bad, '--repo', path], env);
      assert.equal(r.code, 2, bad);
      assert.match(r.stderr, /SIDESTASH_INVALID_ARGUMENT.*read-data subset|read-data subset.*SIDESTASH_INVALID_ARGUMENT/, r.stderr);
    }
    const both = await runCli(['repo', 'check', '--read-data', '--read-data-subset', '1/2', '--repo', path], env);
    assert.equal(both.code, 2, both.stderr);
  });
});
