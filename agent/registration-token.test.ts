// Kubernetes mode's agent credential: SIDESTASH_AGENT_TOKEN_FILE, exclusive with the bootstrap
// token, checked at start-up with the other settings, and read again for every registration
// (the kubelet rotates projected tokens).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isSidestashError } from '../common/errors.ts';
import { parseAgentConfig } from './config.ts';
import { registrationToken } from './registration-token.ts';

const dir = mkdtempSync(join(tmpdir(), 'sidestash-agent-token-'));
const file = join(dir, 'token');
writeFileSync(file, 'first.jwt.token\n');
const base = { SIDESTASH_CONTROLLER_URL: 'https://c:7480', SIDESTASH_AGENT_NAME: 'mariadb-0', SIDESTASH_STDBUF: 'off', SIDESTASH_AGENT_NAMESPACE: 'shop', SIDESTASH_AGENT_TARGETS: 'shop/db' };

const problems = (env: Record<string, string>): string[] => {
  try {
    parseAgentConfig(env);
    return [];
  } catch (err) {
    if (isSidestashError(err)) return err.details.problems as string[];
    throw err;
  }
};

describe('SIDESTASH_AGENT_TOKEN_FILE', () => {
  it('replaces the bootstrap token', () => {
    const c = parseAgentConfig({ ...base, SIDESTASH_AGENT_TOKEN_FILE: file });
    assert.equal(c.tokenFile, file);
    assert.equal(c.bootstrapToken, '');
  });
  it('is re-read for every registration', async () => {
    const c = parseAgentConfig({ ...base, SIDESTASH_AGENT_TOKEN_FILE: file });
    assert.equal(await registrationToken(c), 'first.jwt.token');
    writeFileSync(file, 'rotated.jwt.token');
    assert.equal(await registrationToken(c), 'rotated.jwt.token');
    writeFileSync(file, 'first.jwt.token\n');
  });
  it('the bootstrap token stays as it was', async () => {
    assert.equal(await registrationToken(parseAgentConfig({ ...base, SIDESTASH_AGENT_BOOTSTRAP_TOKEN: 'x'.repeat(20) })), 'x'.repeat(20));
  });
  it('refuses both at once, neither, or an unreadable or empty file, with the other problems', () => {
    assert.deepEqual(problems({ ...base, SIDESTASH_AGENT_TOKEN_FILE: file, SIDESTASH_AGENT_BOOTSTRAP_TOKEN: 'x'.repeat(20) }).map((p) => p.split(':')[0]), ['SIDESTASH_AGENT_TOKEN_FILE and SIDESTASH_AGENT_BOOTSTRAP_TOKEN']);
    assert.match(problems(base)[0]!, /^SIDESTASH_AGENT_BOOTSTRAP_TOKEN: required .*or SIDESTASH_AGENT_TOKEN_FILE/);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    assert.deepEqual(problems({ ...base, SIDESTASH_AGENT_TOKEN_FILE: empty, SIDESTASH_AGENT_NAME: 'Bad_Name' }), [`SIDESTASH_AGENT_TOKEN_FILE: ${empty} is empty`, 'SIDESTASH_AGENT_NAME: "Bad_Name" must be a lowercase DNS name']);
    assert.match(problems({ ...base, SIDESTASH_AGENT_TOKEN_FILE: join(dir, 'missing') })[0]!, /^SIDESTASH_AGENT_TOKEN_FILE: cannot read/);
  });
  it('a file gone or emptied later fails the registration as retryable INVALID_CONFIG', async () => {
    const gone = join(dir, 'gone');
    writeFileSync(gone, 't');
    const c = parseAgentConfig({ ...base, SIDESTASH_AGENT_TOKEN_FILE: gone });
    writeFileSync(gone, '');
    await assert.rejects(registrationToken(c), (e: Error) => isSidestashError(e, 'SIDESTASH_INVALID_CONFIG') && e.retryable);
  });
});
