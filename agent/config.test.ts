import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAgentConfig } from './config.ts';

const base = { SIDESTASH_CONTROLLER_URL: 'https://c:7480', SIDESTASH_AGENT_BOOTSTRAP_TOKEN: 'x'.repeat(20), SIDESTASH_AGENT_NAME: 'mariadb-0', SIDESTASH_STDBUF: 'off' };

describe('agent configuration: identity', () => {
  it('is namespace/name; the namespace defaults to "default" (the edge)', () => {
    const c = parseAgentConfig({ ...base, SIDESTASH_AGENT_TARGETS: 'default/db' });
    assert.equal(c.namespace, 'default');
    assert.equal(parseAgentConfig({ ...base, SIDESTASH_AGENT_NAMESPACE: 'shop', SIDESTASH_AGENT_TARGETS: 'shop/db' }).namespace, 'shop');
  });

  it('refuses a bad namespace and targets outside the agent\'s namespace, all at once', () => {
    assert.throws(() => parseAgentConfig({ ...base, SIDESTASH_AGENT_NAMESPACE: 'Shop_1', SIDESTASH_AGENT_TARGETS: 'shop/db' }), /SIDESTASH_AGENT_NAMESPACE/);
    assert.throws(() => parseAgentConfig({ ...base, SIDESTASH_AGENT_NAMESPACE: 'shop', SIDESTASH_AGENT_TARGETS: 'shop/db,crm/db' }), /"crm\/db" is not in the agent's namespace "shop"/);
  });
});
