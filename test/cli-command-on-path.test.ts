// `sidestash` as a command on PATH (scripts/sidestash linked into a PATH directory), as README.md
// tells a user to set it up for shell completion and for the commands sidestash prints: it runs
// from any directory on the set-up's Node in node_modules, never on the `node` found on PATH, and
// the README's completion lines work with it word for word.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { cleanEnv } from './helpers/cli-process.ts';
import { tempDir } from './helpers/tmp.ts';

const WRAPPER = join(import.meta.dirname, '..', 'scripts', 'sidestash');

let tmp: { path: string; cleanup: () => Promise<void> };
let bin: string;

/** A shell command run in the temporary directory (outside the checkout) with `bin` first on PATH. */
async function shell(shellName: 'bash' | 'zsh', script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = cleanEnv({ PATH: `${bin}:/usr/bin:/bin` });
  try {
    const r = await promisify(execFile)(shellName, shellName === 'zsh' ? ['-fc', script] : ['-c', script], { cwd: tmp.path, env });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('scripts/sidestash: the sidestash command on PATH', () => {
  before(async () => {
    tmp = await tempDir();
    bin = join(tmp.path, 'bin');
    await mkdir(bin);
    await symlink(WRAPPER, join(bin, 'sidestash'));
    // A `node` first on PATH that is not the set-up's (an old system Node would fail on .ts).
    await writeFile(join(bin, 'node'), '#!/bin/sh\necho "the node on PATH ran" >&2\nexit 99\n', { mode: 0o755 });
  });
  after(() => tmp?.cleanup());

  it('runs from another directory on the Node in node_modules, not the node on PATH', async () => {
    const r = await shell('bash', 'sidestash version');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sidestash 0\.1\.0 \(node v\d+\.\d+\.\d+, \w+\/\w+\)\n$/);
    const help = await shell('bash', 'sidestash repo forget --help');
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^usage: sidestash repo forget /);
    const usage = await shell('bash', 'sidestash bakup');
    assert.equal(usage.code, 2, 'the CLI\'s own exit status passes through');
  });

  it('the README\'s completion lines complete it: bash `source <(sidestash completion bash)`, zsh into $fpath[1]', async () => {
    const bash = await shell('bash', 'source <(sidestash completion bash); COMP_WORDS=(sidestash ba); COMP_CWORD=1; _sidestash; echo "${COMPREPLY[*]}"');
    assert.equal(bash.code, 0, bash.stderr);
    assert.equal(bash.stdout.trim(), 'backup');
    await mkdir(join(tmp.path, 'zfunc'));
    const zsh = await shell('zsh', `fpath=(${join(tmp.path, 'zfunc')} $fpath); sidestash completion zsh > "\${fpath[1]}/_sidestash"; autoload -U compinit; compinit -u -D; echo $_comps[sidestash]`);
    assert.equal(zsh.code, 0, zsh.stderr);
    assert.equal(zsh.stdout.trim(), '_sidestash');
  });

  it('refuses to run without the set-up\'s Node, and says what to run', async () => {
    const bare = join(tmp.path, 'bare-checkout');
    await mkdir(join(bare, 'scripts'), { recursive: true });
    await copyFile(WRAPPER, join(bare, 'scripts', 'sidestash'));
    const r = await shell('bash', `sh ${join(bare, 'scripts', 'sidestash')} version`);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /node_modules\/\.bin\/node is missing; run "npm run setup" in .*bare-checkout first/);
  });
});
