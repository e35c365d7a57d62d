// The controller's state directory (SIDESTASH_DB's) that it cannot create or write, as a user
// meets it running README.md's "Running it" without root: `sidestash controller` exits 1 at once
// with a SIDESTASH_INVALID_CONFIG line naming SIDESTASH_DB and the directory, not a bare errno.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runControllerToExit } from './helpers/cli-process.ts';
import { tempDir } from './helpers/tmp.ts';

let dir: { path: string; cleanup: () => Promise<void> };

const runController = runControllerToExit;

describe('a state directory the controller cannot create', () => {
  before(async () => {
    dir = await tempDir();
    await writeFile(join(dir.path, 'a-file'), 'not a directory\n');
  });
  after(() => dir?.cleanup());

  it('exits 1 with SIDESTASH_INVALID_CONFIG naming SIDESTASH_DB and the directory', { timeout: 30_000 }, async () => {
    const stateDir = join(dir.path, 'a-file', 'state');
    const db = join(stateDir, 'controller.db');
    const { code, stderr } = await runController({
      SIDESTASH_DB: db, SIDESTASH_LISTEN: '127.0.0.1:0', SIDESTASH_ADMIN_TOKEN: 'admin-token-0123456789', SIDESTASH_AGENT_BOOTSTRAP_TOKEN: 'boot-token-0123456789',
    });
    assert.equal(code, 1, stderr);
    const line = stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string; code?: string; retryable?: boolean }).find((l) => l.level === 'error');
    assert.equal(line?.code, 'SIDESTASH_INVALID_CONFIG', stderr);
    assert.equal(line?.retryable, false);
    assert.ok(line!.msg.startsWith(`SIDESTASH_DB=${db}: cannot mkdir `), line!.msg);
    assert.match(line!.msg, /\(ENOTDIR\)/);
    assert.ok(line!.msg.includes(`the database's directory, ${stateDir}, holds the database`), line!.msg);
  });
});
