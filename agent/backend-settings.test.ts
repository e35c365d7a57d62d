import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tmpdir } from 'node:os';
import { openBackend } from '../common/backend/open-backend.ts';
import { RateLimitedBackend } from '../common/backend/rate-limit.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { validateResource } from '../controller/resources/validate.ts';
import { agentRetryPolicy, backupBackendOptions } from './backend-settings.ts';
import { parseAgentConfig } from './config.ts';

const base = { SIDESTASH_CONTROLLER_URL: 'https://c:7480', SIDESTASH_AGENT_BOOTSTRAP_TOKEN: 'x'.repeat(20), SIDESTASH_AGENT_NAME: 'mariadb-0', SIDESTASH_STDBUF: 'off', SIDESTASH_AGENT_TARGETS: 'default/db' };

describe('agent configuration: thin and broken links', () => {
  it('no limit by default; retries back off to 30 s within a 5 minute window', () => {
    const c = parseAgentConfig(base);
    assert.equal(c.limitUploadKiBps, undefined);
    assert.deepEqual(c.backendRetry, { maxDelayMs: 30_000, maxTotalMs: 300_000 });
    assert.deepEqual(agentRetryPolicy(c), { attempts: Number.POSITIVE_INFINITY, baseDelayMs: 200, maxDelayMs: 30_000, maxTotalMs: 300_000 });
  });

  it('reads the limit and the retry settings', () => {
    const c = parseAgentConfig({ ...base, SIDESTASH_LIMIT_UPLOAD_KIBPS: '512', SIDESTASH_BACKEND_RETRY_MAX_DELAY: '1m', SIDESTASH_BACKEND_RETRY_TOTAL: '1h' });
    assert.equal(c.limitUploadKiBps, 512);
    assert.deepEqual(c.backendRetry, { maxDelayMs: 60_000, maxTotalMs: 3_600_000 });
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ['a limit of 0', { SIDESTASH_LIMIT_UPLOAD_KIBPS: '0' }, /SIDESTASH_LIMIT_UPLOAD_KIBPS: "0" is not a whole number of KiB\/s from 1 to 10485760/],
    ['a limit above 10 GiB/s', { SIDESTASH_LIMIT_UPLOAD_KIBPS: '10485761' }, /SIDESTASH_LIMIT_UPLOAD_KIBPS: "10485761"/],
    ['a limit with a unit', { SIDESTASH_LIMIT_UPLOAD_KIBPS: '1MiB' }, /SIDESTASH_LIMIT_UPLOAD_KIBPS: "1MiB"/],
    ['a fractional limit', { SIDESTASH_LIMIT_UPLOAD_KIBPS: '1.5' }, /SIDESTASH_LIMIT_UPLOAD_KIBPS: "1.5"/],
    ['a negative limit', { SIDESTASH_LIMIT_UPLOAD_KIBPS: '-1' }, /SIDESTASH_LIMIT_UPLOAD_KIBPS: "-1"/],
    ['a max delay that is not a duration', { SIDESTASH_BACKEND_RETRY_MAX_DELAY: 'soon' }, /SIDESTASH_BACKEND_RETRY_MAX_DELAY: "soon" is not a duration/],
    ['a window longer than a day', { SIDESTASH_BACKEND_RETRY_TOTAL: '25h' }, /SIDESTASH_BACKEND_RETRY_TOTAL: "25h" is too long/],
    ['a max delay longer than the window', { SIDESTASH_BACKEND_RETRY_MAX_DELAY: '10m', SIDESTASH_BACKEND_RETRY_TOTAL: '1m' }, /SIDESTASH_BACKEND_RETRY_MAX_DELAY: 600000 ms is longer than SIDESTASH_BACKEND_RETRY_TOTAL/],
  ];
  for (const [name, env, want] of bad) it(`refuses ${name}`, () => assert.throws(() => parseAgentConfig({ ...base, ...env }), want));

  it('reports every problem at once', () => {
    assert.throws(() => parseAgentConfig({ ...base, SIDESTASH_LIMIT_UPLOAD_KIBPS: 'fast', SIDESTASH_BACKEND_RETRY_TOTAL: 'forever' }), (err: unknown) => {
      assert.ok(isSidestashError(err, ErrorCodes.INVALID_CONFIG));
      assert.match(err.message, /SIDESTASH_LIMIT_UPLOAD_KIBPS[\s\S]*SIDESTASH_BACKEND_RETRY_TOTAL/);
      return true;
    });
  });
});

describe('a backup\'s backend options', () => {
  const settings = { backendRetry: { maxDelayMs: 1000, maxTotalMs: 5000 } };
  it('the lower of the agent\'s and the configuration\'s limits applies; the agent\'s is one bucket for all sessions', async () => {
    const limitOf = async (agent: number | undefined, cfg: number | undefined): Promise<number | undefined> => {
      const b = await openBackend(`local:${tmpdir()}/unused`, {}, backupBackendOptions(agent === undefined ? settings : { ...settings, limitUploadKiBps: agent }, cfg));
      return b instanceof RateLimitedBackend ? b.limitKiBps : undefined;
    };
    assert.equal(await limitOf(undefined, undefined), undefined);
    assert.equal(await limitOf(100, undefined), 100);
    assert.equal(await limitOf(undefined, 300), 300);
    assert.equal(await limitOf(100, 300), 100);
    assert.equal(await limitOf(500, 300), 300);
    const agent = { ...settings, limitUploadKiBps: 700 };
    assert.equal(backupBackendOptions(agent, undefined).sharedUploadLimits?.[0], backupBackendOptions(agent, 5).sharedUploadLimits?.[0], 'the same bucket');
    assert.equal(backupBackendOptions(settings, undefined).retry?.maxTotalMs, 5000);
  });

  for (const v of [0, -1, 1.5, '256', null, 10_485_761, Number.POSITIVE_INFINITY]) {
    it(`refuses an assignment limit of ${JSON.stringify(v)} rather than running unlimited`, () => {
      assert.throws(() => backupBackendOptions(settings, v), (err: unknown) => isSidestashError(err, ErrorCodes.INVALID_ARGUMENT) && /limitUploadKiBps must be an integer from 1 to 10485760/.test(err.message));
    });
  }
});

describe('BackupConfiguration limitUploadKiBps on apply', () => {
  const config = (limit: unknown): unknown => ({
    apiVersion: 'sidestash.io/v1',
    kind: 'BackupConfiguration',
    metadata: { name: 'nightly', namespace: 'shop' },
    spec: { schedule: '0 1 * * *', repository: { name: 'repo' }, target: { ref: { kind: 'AppBinding', name: 'db' } }, limitUploadKiBps: limit },
  });
  for (const ok of [1, 256, 10_485_760]) it(`accepts ${ok}`, () => assert.deepEqual(validateResource(config(ok)).filter((e) => e.field === 'spec.limitUploadKiBps'), []));
  for (const bad of [0, 10_485_761, 2.5, '256', -3]) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.ok(validateResource(config(bad)).some((e) => e.field === 'spec.limitUploadKiBps'), JSON.stringify(validateResource(config(bad)))));
  }
});
