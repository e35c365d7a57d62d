// The controller's Pushgateway setting: an http(s) URL without credentials, query or fragment;
// the agents' old variable still works, with a deprecation warning.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseControllerConfig } from './config.ts';

const base = { SIDESTASH_ADMIN_TOKEN: 'admin-token-0123456789abcdef', SIDESTASH_INSECURE_HTTP: 'true', SIDESTASH_DB: '/tmp/sidestash-config-test.db' };

describe('SIDESTASH_PUSHGATEWAY_URL', () => {
  const good: [Record<string, string>, string | undefined, number][] = [
    [{}, undefined, 0],
    [{ SIDESTASH_PUSHGATEWAY_URL: 'http://pushgateway:9091' }, 'http://pushgateway:9091', 0],
    [{ SIDESTASH_PUSHGATEWAY_URL: 'https://pgw.example/prefix/' }, 'https://pgw.example/prefix/', 0],
    [{ SIDESTASH_AGENT_PUSHGATEWAY_URL: 'http://old:9091' }, 'http://old:9091', 1],
    [{ SIDESTASH_PUSHGATEWAY_URL: 'http://new:9091', SIDESTASH_AGENT_PUSHGATEWAY_URL: 'http://old:9091' }, 'http://new:9091', 1],
  ];
  for (const [env, url, warnings] of good) {
    it(`${JSON.stringify(env)} -> ${url}`, () => {
      const c = parseControllerConfig({ ...base, ...env });
      assert.equal(c.pushgatewayUrl, url);
      assert.equal(c.deprecated.length, warnings);
    });
  }
  const bad = ['pushgateway:9091', 'ftp://pgw', 'http://user:pw@pgw:9091', 'http://pgw:9091/?x=1', 'http://pgw:9091/#frag', 'not a url'];
  for (const value of bad) {
    it(`refuses ${value}`, () => assert.throws(() => parseControllerConfig({ ...base, SIDESTASH_PUSHGATEWAY_URL: value }), /SIDESTASH_PUSHGATEWAY_URL: must be an http/));
  }
});
