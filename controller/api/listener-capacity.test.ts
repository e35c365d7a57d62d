// The start-up checks of the API listener's capacity, on tables: the descriptor limit read from
// /proc/<pid>/limits, whether it fits the connection cap, and whether the keep-alive outlasts the
// agents' heartbeat (the defaults must pass both for a fleet of thousands).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnvReader } from '../../common/config-env.ts';
import { keepAliveProblem, openFileLimit, openFileLimitProblem, parseOpenFileLimit } from './listener-capacity.ts';
import { DEFAULT_LISTENER_LIMITS, checkingIntervalMs, parseListenerLimits } from './listener-limits.ts';

const limitsText = (soft: string, hard: string): string =>
  `Limit                     Soft Limit           Hard Limit           Units     \nMax stack size            8388608              unlimited            bytes     \nMax open files            ${soft.padEnd(21)}${hard.padEnd(21)}files     \nMax locked memory         8388608              8388608              bytes     \n`;

describe('parseOpenFileLimit', () => {
  const table: { name: string; text: string; want: number | undefined }[] = [
    { name: 'the soft limit, not the hard one', text: limitsText('1024', '524288'), want: 1024 },
    { name: 'raised', text: limitsText('1048576', '1048576'), want: 1_048_576 },
    { name: 'unlimited', text: limitsText('unlimited', 'unlimited'), want: undefined },
    { name: 'no such line', text: 'Limit Soft Hard\nMax processes 10 10 processes\n', want: undefined },
    { name: 'empty', text: '', want: undefined },
  ];
  for (const t of table) it(t.name, () => assert.equal(parseOpenFileLimit(t.text), t.want));
  it('reads this process\'s limit where /proc shows it', async () => {
    const n = await openFileLimit();
    if (process.platform === 'linux') assert.ok(typeof n === 'number' && n > 0, String(n));
  });
});

describe('openFileLimitProblem', () => {
  const table: { name: string; soft: number | undefined; max: number; problem: boolean }[] = [
    { name: 'unknown: no warning', soft: undefined, max: 16_384, problem: false },
    { name: 'systemd\'s soft 1024 with the default cap: warned', soft: 1024, max: DEFAULT_LISTENER_LIMITS.maxConnections, problem: true },
    { name: 'just below cap + reserve', soft: 16_384 + 255, max: 16_384, problem: true },
    { name: 'exactly cap + reserve', soft: 16_384 + 256, max: 16_384, problem: false },
    { name: 'a container\'s 1048576', soft: 1_048_576, max: 16_384, problem: false },
    { name: 'a low cap fits a low limit', soft: 1024, max: 512, problem: false },
  ];
  for (const t of table) it(t.name, () => assert.equal(openFileLimitProblem(t.soft, t.max) !== undefined, t.problem));
  it('says what to do', () => {
    const p = openFileLimitProblem(4096, 16_384)!;
    for (const part of ['RLIMIT_NOFILE', '4096', 'SIDESTASH_MAX_CONNECTIONS=16384', 'EMFILE', 'LimitNOFILE', 'ulimit -n', '3840']) assert.ok(p.includes(part), `${part} in ${p}`);
  });
});

describe('keepAliveProblem', () => {
  const table: { name: string; keepAliveMs: number; heartbeatMs: number; problem: boolean }[] = [
    { name: 'the old default 5 s against a 20 s heartbeat', keepAliveMs: 5_000, heartbeatMs: 20_000, problem: true },
    { name: 'equal to heartbeat + margin', keepAliveMs: 22_000, heartbeatMs: 20_000, problem: true },
    { name: 'just above', keepAliveMs: 22_001, heartbeatMs: 20_000, problem: false },
    { name: 'a longer lease needs a longer keep-alive', keepAliveMs: 65_000, heartbeatMs: 100_000, problem: true },
  ];
  for (const t of table) it(t.name, () => assert.equal(keepAliveProblem(t.keepAliveMs, t.heartbeatMs) !== undefined, t.problem));
});

describe('the defaults hold a fleet', () => {
  it('keep-alive outlasts the heartbeat of the default 60 s lease (20 s)', () => assert.equal(keepAliveProblem(DEFAULT_LISTENER_LIMITS.keepAliveTimeoutMs, 20_000), undefined));
  it('the connection cap fits 5,000 agents at 3 connections each', () => assert.ok(DEFAULT_LISTENER_LIMITS.maxConnections >= 3 * 5_000));
  it('the idle timeout exceeds the keep-alive', () => {
    const r = new EnvReader({ SIDESTASH_KEEP_ALIVE_TIMEOUT: '95s' });
    parseListenerLimits(r);
    assert.ok(r.problems.some((p) => p.startsWith('SIDESTASH_IDLE_TIMEOUT') && p.includes('SIDESTASH_KEEP_ALIVE_TIMEOUT')), r.problems.join('; '));
  });
  const intervals: { headersMs: number; want: number }[] = [
    { headersMs: 300, want: 250 },
    { headersMs: 10_000, want: 2_500 },
    { headersMs: 600_000, want: 30_000 },
  ];
  for (const t of intervals) it(`Node checks header timeouts every ${t.want} ms for a ${t.headersMs} ms header timeout`, () => assert.equal(checkingIntervalMs({ headersTimeoutMs: t.headersMs }), t.want));
});
