// The image runs the build (npm run build: tsc -p tsconfig.build.json), not the sources: the
// build must succeed, leave no `.ts` import behind, and the built CLI must back up and read
// back a stream like the sources do.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, open, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from './helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '..');

/** stdin: bytes to pipe in, or an open file's descriptor to hand over as the child's stdin. */
function runBuilt(cli: string, args: string[], env: Record<string, string>, stdin?: Buffer | number): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: [typeof stdin === 'number' ? stdin : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr }));
    if (typeof stdin !== 'number') child.stdin!.end(stdin);
  });
}

it('builds plain JavaScript that backs up and restores through the CLI', { timeout: 120_000 }, async () => {
  const dir = await tempDir();
  try {
    const app = join(dir.path, 'app');
    const out = join(app, 'dist');
    await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out]);
    const files = (await readdir(out, { recursive: true })).filter((f) => f.endsWith('.js'));
    assert.ok(files.includes(join('bin', 'sidestash.js')) && files.includes(join('agent', 'agent.js')), files.join(' '));
    assert.ok(!files.some((f) => f.endsWith('.test.js')), 'no tests in the build');
    for (const f of files) {
      assert.doesNotMatch(await readFile(join(out, f), 'utf8'), /(from\s+|import\()\s*['"]\.[^'"]*\.ts['"]/, `${f} imports a .ts file`);
    }
    // As in the image (/app): the built tree beside package.json and the dependencies.
    await symlink(join(ROOT, 'node_modules'), join(app, 'node_modules'));
    await copyFile(join(ROOT, 'package.json'), join(app, 'package.json'));
    const cli = join(out, 'bin', 'sidestash.js');
    const env = { RESTIC_REPOSITORY: join(dir.path, 'repo'), RESTIC_PASSWORD: 'built' };
    assert.equal((await runBuilt(cli, ['repo', 'init'], env)).code, 0);
    const data = Buffer.concat([randomBytes(3 << 20), Buffer.from('-- Dump completed\n'.repeat(40_000))]);
    const backup = await runBuilt(cli, ['repo', 'backup', '--stdin-filename', 'dumpfile.sql'], env, data);
    assert.equal(backup.code, 0, backup.stderr);
    const dump = await runBuilt(cli, ['repo', 'dump', 'latest'], env);
    assert.equal(dump.code, 0, dump.stderr);
    assert.ok(dump.stdout.equals(data), 'the built CLI reads back the exact bytes');
    // Standard input from a file (`< dump.sql`) is read in larger pieces: same bytes back.
    const fromFile = Buffer.concat([data, randomBytes(1 << 20)]);
    const path = join(dir.path, 'dump.sql');
    await writeFile(path, fromFile);
    const file = await open(path);
    try {
      const second = await runBuilt(cli, ['repo', 'backup', '--stdin-filename', 'dumpfile.sql'], env, file.fd);
      assert.equal(second.code, 0, second.stderr);
    } finally {
      await file.close();
    }
    const again = await runBuilt(cli, ['repo', 'dump', 'latest'], env);
    assert.ok(again.stdout.equals(fromFile), 'a backup of a file on standard input reads back the exact bytes');
  } finally {
    await dir.cleanup();
  }
});
