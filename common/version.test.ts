import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { AGENT_VERSION } from '../agent/agent.ts';
import { SIDESTASH_VERSION } from './version.ts';

it('SIDESTASH_VERSION is package.json\'s version and the agent\'s', () => {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string };
  assert.equal(SIDESTASH_VERSION, pkg.version);
  assert.equal(AGENT_VERSION, pkg.version);
});
