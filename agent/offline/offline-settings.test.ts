// Edge autonomy's settings (offline-settings.ts): off without a state directory; the key from
// a file outside it or from the enrolment token; every problem named with its variable.
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { EnvReader } from '../../common/config-env.ts';
import { tempDir } from '../../test/helpers/tmp.ts';
import { parseOfflineSettings } from './offline-settings.ts';

let dir: { path: string; cleanup: () => Promise<void> };
before(async () => (dir = await tempDir()));
after(async () => dir?.cleanup());

function parse(env: Record<string, string>, token = 'enrolment-token-0123456789'): { settings: ReturnType<typeof parseOfflineSettings>; problems: string[] } {
  const r = new EnvReader(env);
  return { settings: parseOfflineSettings(r, token), problems: r.problems };
}

it('the key material is never stored beside the state: an enrolment token file inside the state directory, or a key file reached through a link, is refused', () => {
  const state = join(dir.path, 'beside');
  mkdirSync(state, { recursive: true });
  const tokenInside = join(state, 'enrolment-token');
  writeFileSync(tokenInside, 'enrolment-token-0123456789');
  // The key comes from the enrolment token, which the agent read from a file in the state directory.
  const t = parse({ SIDESTASH_STATE_DIR: state, SIDESTASH_AGENT_BOOTSTRAP_TOKEN_FILE: tokenInside });
  assert.equal(t.settings, undefined);
  assert.match(t.problems.join('\n'), /SIDESTASH_AGENT_BOOTSTRAP_TOKEN_FILE: .* inside SIDESTASH_STATE_DIR/);
  // The state directory named through a link: the key file is inside it all the same.
  const link = join(dir.path, 'state-link');
  symlinkSync(state, link);
  const keyInside = join(state, 'key');
  writeFileSync(keyInside, Buffer.alloc(32, 5));
  const l = parse({ SIDESTASH_STATE_DIR: link, SIDESTASH_STATE_KEY_FILE: keyInside });
  assert.equal(l.settings, undefined);
  assert.match(l.problems.join('\n'), /SIDESTASH_STATE_KEY_FILE: .* inside SIDESTASH_STATE_DIR/);
  // A token file elsewhere is fine.
  const tokenOutside = join(dir.path, 'token-outside');
  writeFileSync(tokenOutside, 'enrolment-token-0123456789');
  assert.equal(parse({ SIDESTASH_STATE_DIR: state, SIDESTASH_AGENT_BOOTSTRAP_TOKEN_FILE: tokenOutside }).settings?.keySource, 'enrolment-token');
});

it('off, on with the enrolment token or a key file, and each wrong setting named', () => {
  const keyFile = join(dir.path, 'key');
  writeFileSync(keyFile, Buffer.alloc(32, 7));
  const shortKey = join(dir.path, 'short');
  writeFileSync(shortKey, 'abc');
  const state = join(dir.path, 'state');
  writeFileSync(join(dir.path, 'inside-key'), Buffer.alloc(32, 1));
  assert.deepEqual(parse({}), { settings: undefined, problems: [] });
  const t = parse({ SIDESTASH_STATE_DIR: state });
  assert.equal(t.settings?.keySource, 'enrolment-token');
  assert.equal(t.settings?.offlineAfterMs, 600_000);
  const k = parse({ SIDESTASH_STATE_DIR: state, SIDESTASH_STATE_KEY_FILE: keyFile, SIDESTASH_OFFLINE_AFTER: '90s' });
  assert.equal(k.settings?.keySource, 'key-file');
  assert.equal(k.settings?.offlineAfterMs, 90_000);
  assert.deepEqual(k.settings?.keyMaterial, Buffer.alloc(32, 7));
  const rows: [Record<string, string>, string, RegExp][] = [
    [{ SIDESTASH_STATE_DIR: 'relative/dir' }, 'x'.repeat(20), /SIDESTASH_STATE_DIR: .* not an absolute path/],
    [{ SIDESTASH_STATE_DIR: state }, '', /SIDESTASH_STATE_KEY_FILE: required .* no enrolment token/],
    [{ SIDESTASH_STATE_DIR: dir.path, SIDESTASH_STATE_KEY_FILE: join(dir.path, 'inside-key') }, 'x'.repeat(20), /inside SIDESTASH_STATE_DIR/],
    [{ SIDESTASH_STATE_DIR: state, SIDESTASH_STATE_KEY_FILE: shortKey }, 'x'.repeat(20), /holds 3 bytes/],
    [{ SIDESTASH_STATE_DIR: state, SIDESTASH_STATE_KEY_FILE: join(dir.path, 'missing') }, 'x'.repeat(20), /cannot read/],
    [{ SIDESTASH_STATE_KEY_FILE: keyFile }, 'x'.repeat(20), /set without SIDESTASH_STATE_DIR/],
  ];
  for (const [env, token, want] of rows) {
    const p = parse(env, token);
    assert.equal(p.settings, undefined, JSON.stringify(env));
    assert.match(p.problems.join('\n'), want, JSON.stringify(env));
  }
});
