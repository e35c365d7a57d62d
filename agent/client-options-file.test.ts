// Option files a killed agent left behind are removed when the agent starts: its own, and
// nothing else (other agents' directories, symbolic links, other users' directories, files).
import assert from 'node:assert/strict';
import { chown, mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../common/log.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { SidecarAgent } from './agent.ts';
import { optionDirPrefix, removeLeftoverOptionDirs, writeClientOptionsFile } from './client-options-file.ts';
import type { AgentConfig } from './config.ts';

const db = { socket: '/run/mysqld/mysqld.sock', username: 'u', password: 'secret"pw' };

describe('client option files', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.cleanup());

  it('are private, and a killed run leaves only its own directories to remove', async () => {
    const tmp = join(dir.path, 'unit');
    await mkdir(tmp);
    const live = await writeClientOptionsFile(tmp, db, 'agent-a');
    assert.equal((await stat(live.path)).mode & 0o777, 0o600);
    assert.equal((await stat(join(live.path, '..'))).mode & 0o777, 0o700);
    assert.match(await readFile(live.path, 'utf8'), /password="secret\\"pw"/);
    const leftover = join(live.path, '..');
    // Not ours: another agent's directory, a symbolic link with our name, a file, other names.
    const other = join(join(await writeClientOptionsFile(tmp, db, 'agent-b').then((f) => f.path), '..'));
    const outside = join(dir.path, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'keep'), 'x');
    await symlink(outside, join(tmp, `${optionDirPrefix('agent-a')}LINK00`));
    await writeFile(join(tmp, `${optionDirPrefix('agent-a')}FILE00`), 'x');
    await mkdir(join(tmp, `${optionDirPrefix('agent-a')}toolong`));
    await mkdir(join(tmp, 'sidestash-test-abcdef'));
    const root = process.getuid?.() === 0;
    if (root) {
      await mkdir(join(tmp, `${optionDirPrefix('agent-a')}NOBODY`));
      await chown(join(tmp, `${optionDirPrefix('agent-a')}NOBODY`), 65534, 65534);
    }
    assert.equal(await removeLeftoverOptionDirs(tmp, 'agent-a'), 1);
    const left = await readdir(tmp);
    assert.ok(!left.includes(leftover.split('/').pop()!), 'the leftover is gone');
    assert.ok(left.includes(other.split('/').pop()!), "another agent's directory stays");
    assert.ok(left.includes(`${optionDirPrefix('agent-a')}LINK00`) && left.includes(`${optionDirPrefix('agent-a')}FILE00`) && left.includes(`${optionDirPrefix('agent-a')}toolong`) && left.includes('sidestash-test-abcdef'));
    if (root) assert.ok(left.includes(`${optionDirPrefix('agent-a')}NOBODY`), "another user's directory stays");
    assert.deepEqual(await readdir(outside), ['keep'], 'nothing through the link');
    assert.equal(await removeLeftoverOptionDirs(join(dir.path, 'missing'), 'agent-a'), 0);
  });

  it('the agent removes them when it starts', async () => {
    const tmp = join(dir.path, 'agent');
    await mkdir(tmp);
    // Left by a killed agent of the same identity (namespace/name).
    const killed = join(await writeClientOptionsFile(tmp, db, 'default/agent-a').then((f) => f.path), '..');
    // A controller that is not there: the agent keeps trying to register until it is stopped.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const config: AgentConfig = { controllerUrl: `http://127.0.0.1:${port}`, bootstrapToken: 'x', name: 'agent-a', namespace: 'default', targets: ['default/db'], progressIntervalMs: 50, mariadbDumpPath: 'mariadb-dump', mariadbPath: 'mariadb', tmpDir: tmp };
    const ac = new AbortController();
    const lines: string[] = [];
    const log = createLogger({}, { level: 'warn', write: (line: string) => lines.push(line) });
    const running = new SidecarAgent(config, log).run(ac.signal);
    // The clean-up comes before registration, whose first failure is logged.
    while (!lines.some((l) => l.includes('registration failed'))) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await running;
    assert.deepEqual(await readdir(tmp), [], `${killed} removed`);
    assert.ok(lines.some((l) => l.includes('removed option files left by an earlier run')), lines.join('\n'));
  });
});
