// Configured enrolment tokens (the chart's tokens file, the bootstrap token): what an agent
// enrolled with stays valid only while the same token with the same scope is configured.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { it } from 'node:test';
import { createLogger } from '../../common/log.ts';
import { Store } from '../store/store.ts';
import type { ConfiguredAgentToken } from './configured-tokens.ts';
import { EnrolmentTokens } from './enrolment-tokens.ts';

const quiet = createLogger({}, { level: 'error' });
const hash = (t: string): string => createHash('sha256').update(t).digest('hex');
const req = (token: string) => ({ headers: { authorization: `Bearer ${token}` } }) as unknown as IncomingMessage;
const shop = (token: string, targets?: string[]): ConfiguredAgentToken => ({ id: 'shop', namespace: 'shop', ...(targets ? { targets } : {}), tokenSha256: hash(token), source: 'file' });

it('a configured token rotated, rescoped or removed under the same id cuts off what the old one enrolled', async () => {
  const store = new Store(':memory:');
  try {
    const before = new EnrolmentTokens(store, [shop('old-token-0123456789')], quiet);
    const scope = await before.authenticate(req('old-token-0123456789'));
    assert.ok(scope);
    assert.equal(before.isActive(scope.credentialId), true);
    // The controller restarts with the same file: still active.
    assert.equal(new EnrolmentTokens(store, [shop('old-token-0123456789')], quiet).isActive(scope.credentialId), true);
    // A new token under the same id, the same token narrowed to named targets, or no such entry.
    for (const after of [[shop('new-token-0123456789')], [shop('old-token-0123456789', ['db'])], []]) {
      assert.equal(new EnrolmentTokens(store, after, quiet).isActive(scope.credentialId), false, JSON.stringify(after));
    }
    assert.equal(await new EnrolmentTokens(store, [shop('new-token-0123456789')], quiet).authenticate(req('old-token-0123456789')), undefined, 'the old token enrols no one');
  } finally {
    store.close();
  }
});
