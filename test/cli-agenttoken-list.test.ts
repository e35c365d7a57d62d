// `sidestash agenttoken list` as kubectl get lists: namespace -n's tokens (default "default"),
// every namespace's with -A (and only then the NAMESPACE column). The real controller and CLI.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli, startController } from './helpers/stack.ts';
import type { ControllerProc } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

interface TokenView {
  id: string;
  namespace: string;
}

describe('agenttoken list -n NAMESPACE | -A', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let controller: ControllerProc;
  const cli = async (...args: string[]) => {
    const r = await runCli(args, controller.cliEnv);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const listed = async (...args: string[]) => (JSON.parse(await cli('agenttoken', 'list', '-o', 'json', ...args)) as TokenView[]);
  const ids: Record<string, string> = {};

  before(async () => {
    dir = await tempDir();
    controller = await startController(dir.path);
    for (const ns of ['team-a', 'team-b']) ids[ns] = (JSON.parse(await cli('agenttoken', 'create', '-n', ns, '-o', 'json')) as TokenView).id;
  });
  after(async () => {
    await controller?.stop();
    await dir?.cleanup();
  });

  it('-n lists that namespace\'s tokens only', async () => {
    assert.deepEqual((await listed('-n', 'team-a')).map((t) => t.id), [ids['team-a']]);
    assert.deepEqual((await listed('--namespace', 'team-b')).map((t) => t.id), [ids['team-b']]);
    const table = await cli('agenttoken', 'list', '-n', 'team-a');
    assert.match(table, /^ID +TARGETS +SOURCE +AGE +REVOKED +DESCRIPTION\n/, 'no NAMESPACE column, as kubectl without -A');
    assert.ok(table.includes(ids['team-a']!), table);
    assert.ok(!table.includes(ids['team-b']!), table);
  });

  it('without -n: namespace "default" (the bootstrap token\'s), as kubectl', async () => {
    const items = await listed();
    assert.ok(items.length > 0, 'the controller\'s bootstrap token');
    assert.ok(items.every((t) => t.namespace === 'default'), JSON.stringify(items));
  });

  it('-A lists every namespace, with the NAMESPACE column', async () => {
    const all = await listed('-A');
    for (const ns of ['default', 'team-a', 'team-b']) assert.ok(all.some((t) => t.namespace === ns), ns);
    const table = await cli('agenttoken', 'list', '--all-namespaces');
    assert.match(table, /^ID +NAMESPACE +TARGETS /);
    assert.match(table, new RegExp(`${ids['team-b']} +team-b `));
  });

  it('a namespace without tokens says so', async () => {
    assert.equal(await cli('agenttoken', 'list', '-n', 'nobody'), 'No agent tokens found in nobody namespace.\n');
    assert.deepEqual(await listed('-n', 'nobody'), []);
  });
});
