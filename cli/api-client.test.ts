import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isSidestashError } from '../common/errors.ts';
import { apiOptionsFromEnv, retryAfterMs } from './api-client.ts';

const token = { SIDESTASH_ADMIN_TOKEN: 'admin-token-0123456789' };

it('defaults to https://, reads SIDESTASH_CA_FILE, and refuses http:// without SIDESTASH_INSECURE_HTTP=true', () => {
  assert.equal(apiOptionsFromEnv({}, token).url, 'https://127.0.0.1:7480');
  assert.match(apiOptionsFromEnv({}, { ...token, SIDESTASH_CA_FILE: import.meta.filename }).ca!, /SIDESTASH_CA_FILE/);
  const refused = (env: Record<string, string>, pattern: RegExp): void =>
    assert.throws(() => apiOptionsFromEnv({}, { ...token, ...env }), (err: unknown) => isSidestashError(err, 'SIDESTASH_INVALID_ARGUMENT') && pattern.test(err.message));
  refused({ SIDESTASH_URL: 'http://controller:7480' }, /plain HTTP.*SIDESTASH_INSECURE_HTTP=true/);
  refused({ SIDESTASH_URL: 'http://controller:7480', SIDESTASH_INSECURE_HTTP: 'yes' }, /plain HTTP/);
  refused({ SIDESTASH_URL: 'ftp://controller' }, /not an https:\/\/ URL/);
  refused({ SIDESTASH_CA_FILE: '/nonexistent/ca.crt' }, /SIDESTASH_CA_FILE: cannot read \/nonexistent\/ca.crt/);
  assert.equal(apiOptionsFromEnv({ url: 'http://controller:7480/' }, { ...token, SIDESTASH_INSECURE_HTTP: 'true' }).url, 'http://controller:7480');
});

it('waits as a NOT_LEADER answer\'s Retry-After asks, at most 1 s; 1 s when it is absent or unreadable', () => {
  const cases: [string | string[] | undefined, number][] = [['1', 1000], ['0', 0], ['0.25', 250], ['120', 1000], [undefined, 1000], ['soon', 1000], ['-1', 1000], [['0.5', '9'], 500]];
  for (const [header, ms] of cases) assert.equal(retryAfterMs(header), ms, JSON.stringify(header));
});
