// The enrolment decisions on tables: which targets a scope grants, when a name may be taken,
// what a tokens file may hold, and how agent reports are checked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnvReader } from '../../common/config-env.ts';
import { isSidestashError } from '../../common/errors.ts';
import { parseProgress, parseResult } from './agent-reports.ts';
import { ALL_NAMESPACES, checkAgentName, decideRegistration, grantTargets } from './agent-scope.ts';
import type { AgentScope } from './agent-scope.ts';
import { parseAgentTokensFile, readConfiguredAgentTokens } from './configured-tokens.ts';

const H = 'a'.repeat(64);

describe('grantTargets', () => {
  const ns: AgentScope = { namespace: 'shop', credentialId: 't' };
  const named: AgentScope = { namespace: 'shop', targets: ['db'], credentialId: 't' };
  const all: AgentScope = { namespace: ALL_NAMESPACES, credentialId: 't' };
  const cases: [string, AgentScope, string, string[], string[] | RegExp][] = [
    ['namespace scope grants its AppBindings', ns, 'shop', ['shop/db', 'shop/db2', 'shop/db'], ['shop/db', 'shop/db2']],
    ['another namespace is refused', ns, 'crm', ['crm/db'], /scoped to namespace "shop", not "crm"/],
    ['a target of another namespace is refused', ns, 'shop', ['shop/db', 'crm/db'], /"crm\/db" is outside the agent's namespace/],
    ['named scope grants the named', named, 'shop', ['shop/db'], ['shop/db']],
    ['named scope refuses the others', named, 'shop', ['shop/other'], /outside the enrolment token's scope \(shop\/db\)/],
    ['an all-namespaces token grants any namespace, own targets only', all, 'crm', ['crm/db'], ['crm/db']],
    ['an all-namespaces token still keeps targets in the agent\'s namespace', all, 'crm', ['shop/db'], /outside the agent's namespace/],
  ];
  for (const [what, scope, agentNs, requested, expected] of cases) {
    it(what, () => {
      if (expected instanceof RegExp) assert.throws(() => grantTargets(scope, agentNs, requested), (e: Error) => isSidestashError(e, 'SIDESTASH_FORBIDDEN') && expected.test(e.message));
      else assert.deepEqual(grantTargets(scope, agentNs, requested), expected);
    });
  }
});

describe('checkAgentName', () => {
  it('a pod\'s credential registers only under the pod\'s name', () => {
    const pod: AgentScope = { namespace: 'shop', targets: ['db'], credentialId: 'serviceaccount:shop/mariadb-0@u', name: 'mariadb-0' };
    assert.doesNotThrow(() => checkAgentName(pod, 'mariadb-0'));
    assert.throws(() => checkAgentName(pod, 'mariadb-1'), (e: Error) => isSidestashError(e, 'SIDESTASH_FORBIDDEN') && /pod "mariadb-0"'s/.test(e.message));
  });
  it('an enrolment token (no name) allows any', () => assert.doesNotThrow(() => checkAgentName({ namespace: 'shop', credentialId: 't' }, 'anything')));
});

describe('decideRegistration', () => {
  const lease = 60_000;
  const now = Date.parse('2026-01-01T00:10:00Z');
  const live = { tokenSha256: H, lastSeenAt: '2026-01-01T00:09:30Z' };
  const stale = { tokenSha256: H, lastSeenAt: '2026-01-01T00:09:00Z' };
  const cases: [string, typeof live | undefined, string | undefined, boolean, string?][] = [
    ['a new name is free', undefined, undefined, true, 'new'],
    ['a live name is refused', live, undefined, false],
    ['a live name with a wrong current token is refused', live, 'b'.repeat(64), false],
    ['the holder presenting its current token may re-register', live, H, true, 'same-agent'],
    ['a name silent for a whole lease may be taken over', stale, undefined, true, 'stale'],
    ['an unreadable last-seen time does not lock the name forever', { tokenSha256: H, lastSeenAt: 'garbage' }, undefined, true, 'stale'],
  ];
  for (const [what, existing, presented, allow, why] of cases) {
    it(what, () => {
      const d = decideRegistration(existing, presented, now, lease);
      assert.equal(d.allow, allow);
      if (d.allow) assert.equal(d.why, why);
      else assert.match(d.reason, /is live .*\(in 30s\)/);
    });
  }
});

describe('configured enrolment tokens', () => {
  it('reads the bootstrap token as scoped to "default", or to the namespace configured', () => {
    assert.deepEqual(readConfiguredAgentTokens(new EnvReader({ SIDESTASH_AGENT_BOOTSTRAP_TOKEN: 'x'.repeat(20) })).map((t) => [t.id, t.namespace]), [['bootstrap', 'default']]);
    assert.deepEqual(readConfiguredAgentTokens(new EnvReader({ SIDESTASH_AGENT_BOOTSTRAP_TOKEN: 'x'.repeat(20), SIDESTASH_AGENT_BOOTSTRAP_NAMESPACE: 'edge' })).map((t) => t.namespace), ['edge']);
    assert.deepEqual(readConfiguredAgentTokens(new EnvReader({})), []);
  });

  it('names every problem of a tokens file with its entry and field', () => {
    const problems: string[] = [];
    const text = JSON.stringify([
      { id: 'ok', namespace: 'shop', sha256: H },
      { id: 'Bad', namespace: 'Not_NS', sha256: 'xyz', targets: 'db', extra: 1 },
      { id: 'ok', namespace: 'crm', sha256: 'b'.repeat(64) },
      { id: 'dup-token', namespace: 'crm', sha256: H },
      { id: 'all', namespace: '*', sha256: 'c'.repeat(64) },
    ]);
    const tokens = parseAgentTokensFile(text, 'f', problems);
    assert.deepEqual(tokens.map((t) => `${t.id}:${t.namespace}`), ['ok:shop', 'all:*']);
    for (const p of ['f[1].extra', 'f[1].id', 'f[1].namespace', 'f[1].targets', 'f[1].sha256', 'f[2].id', 'f[3].sha256']) assert.ok(problems.some((x) => x.startsWith(`${p}:`)), `${p} in ${problems.join(' | ')}`);
    assert.deepEqual(parseAgentTokensFile('{}', 'f', []), []);
    const notJson: string[] = [];
    parseAgentTokensFile('[', 'f', notJson);
    assert.match(notJson[0]!, /not JSON/);
  });
});

describe('agent reports', () => {
  const fields = (fn: () => unknown): string[] => {
    try {
      fn();
    } catch (err) {
      assert.ok(isSidestashError(err, 'SIDESTASH_INVALID_ARGUMENT'));
      return (err.details.errors as { field: string }[]).map((e) => e.field).sort();
    }
    return [];
  };
  const cases: [string, () => unknown, string[]][] = [
    ['good progress', () => parseProgress({ bytesDumped: 1, bytesStored: 0, rateBytesPerSecond: 2.5, etaSeconds: 3 }), []],
    ['progress with strings, negatives, NaN-like', () => parseProgress({ bytesDumped: '1', bytesStored: -1, rateBytesPerSecond: 1e300, estimatedTotalBytes: null }), ['bytesDumped', 'bytesStored', 'estimatedTotalBytes', 'rateBytesPerSecond']],
    ['progress that is not an object', () => parseProgress([1]), ['body', 'bytesDumped', 'bytesStored', 'rateBytesPerSecond']],
    ['good result', () => parseResult({ phase: 'Succeeded', snapshotId: H, bytesRead: 1, retention: { kept: 1, removed: 0, pruned: true }, repositoryStats: { sizeBytes: 1, snapshotCount: 1 } }), []],
    ['result phase and id', () => parseResult({ phase: 'Done', snapshotId: 'abc' }), ['phase', 'snapshotId']],
    ['good processing time and file counts', () => parseResult({ phase: 'Succeeded', processingSeconds: 1.5, files: { new: 0, modified: 1, unmodified: 0 } }), []],
    ['processing time and file counts of the wrong types', () => parseResult({ phase: 'Succeeded', processingSeconds: -1, files: { new: 1.5, modified: '1', unmodified: null } }), ['files.modified', 'files.new', 'files.unmodified', 'processingSeconds']],
    ['file counts that are not an object', () => parseResult({ phase: 'Succeeded', files: [1, 0, 0] }), ['files']],
    ['result nested types', () => parseResult({ phase: 'Failed', error: { code: 'lower', message: {} }, retention: { kept: 1.5, removed: 0, pruned: 1 }, repositoryStats: { sizeBytes: '1', snapshotCount: 1 } }), ['error.code', 'error.message', 'repositoryStats.sizeBytes', 'retention.kept', 'retention.pruned']],
  ];
  for (const [what, fn, expected] of cases) it(what, () => assert.deepEqual(fields(fn), expected));

  it('drops unknown fields and strips control characters', () => {
    const r = parseResult({ phase: 'Failed', error: { code: 'SIDESTASH_DUMP_FAILED', message: '\u001b[1mbad\u001b[0m\r', hint: 'x' }, extra: 1 });
    assert.deepEqual(r, { phase: 'Failed', error: { code: 'SIDESTASH_DUMP_FAILED', message: 'bad' } });
  });
});
