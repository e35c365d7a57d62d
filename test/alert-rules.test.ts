// The shipped alert rules with the real promtool (Debian's prometheus 2.42): `check rules`, the
// unit tests in test/alert-rules/ (`test rules`), the shape every rule must have, and mutants of
// the rules that the unit tests must reject (so that the unit tests can fail).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { ALERT_RULES_FILE, loadAlertRules } from './helpers/alert-rules.ts';
import { tempDir } from './helpers/tmp.ts';

const run = promisify(execFile);
const UNIT_TESTS = join(import.meta.dirname, 'alert-rules', 'sidestash-alerts.test.yaml');
const CONTRACT_ALERTS = ['SidestashBackupTooOld', 'SidestashBackupFailed', 'SidestashRepositoryIntegrityFailed', 'SidestashSessionStuckPending', 'SidestashSessionStuckRunning', 'SidestashAgentMissing', 'SidestashControllerMetricsAbsent', 'SidestashBinlogArchiveLagging', 'SidestashBinlogArchiveDown', 'SidestashBinlogGap'];

/** promtool's exit status and output (never throws for a non-zero exit). */
async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('alert rules', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let rulesText: string;
  before(async () => {
    dir = await tempDir('sidestash-rules-');
    rulesText = await readFile(ALERT_RULES_FILE, 'utf8');
  });
  after(() => dir.cleanup());

  it('pass promtool check rules', async () => {
    const r = await promtool('check', 'rules', ALERT_RULES_FILE);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /SUCCESS: 10 rules found/);
  });

  it('pass their promtool unit tests', async () => {
    const r = await promtool('test', 'rules', UNIT_TESTS);
    assert.equal(r.code, 0, r.output);
  });

  it('are the contract alerts in group "sidestash", each with for, severity, summary and description naming what failed, and unit-tested', async () => {
    const rules = await loadAlertRules();
    assert.deepEqual(rules.map((r) => r.alert).sort(), [...CONTRACT_ALERTS].sort());
    const tests = parse(await readFile(UNIT_TESTS, 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    for (const r of rules) {
      assert.equal(r.group, 'sidestash');
      assert.match(r.for ?? '', /^\d+[smh]$/, `${r.alert} has for:`);
      assert.ok(['warning', 'critical'].includes(r.labels.severity ?? ''), `${r.alert} severity`);
      assert.ok(r.annotations.summary && r.annotations.description, `${r.alert} annotations`);
      for (const label of r.expr.includes('configuration') ? ['namespace', 'configuration', 'target'] : []) {
        assert.ok(r.annotations.summary.includes(`$labels.${label}`) && r.annotations.description.includes(`$labels.${label}`), `${r.alert} names ${label}`);
      }
      assert.ok(cases.some((c) => c.alertname === r.alert && c.exp_alerts.length > 0), `${r.alert}: a unit test where it fires`);
      assert.ok(cases.some((c) => c.alertname === r.alert && c.exp_alerts.length === 0), `${r.alert}: a unit test where it does not fire`);
    }
  });

  // Each mutant breaks one behaviour the alerts promise; the unit tests must notice every one.
  const mutants: [string, string, string][] = [
    ['a paused configuration alerts on failure', 'max by (namespace, configuration, target) (sidestash_backup_last_phase{phase="Failed"}) == 1\n  unless on (namespace, configuration, target)\n  (max by (namespace, configuration, target) (sidestash_backup_paused) == 1)', 'max by (namespace, configuration, target) (sidestash_backup_last_phase{phase="Failed"}) == 1'],
    ['a cancelled backup alerts as failed', 'sidestash_backup_last_phase{phase="Failed"}) == 1', 'sidestash_backup_last_phase{phase!="Succeeded"}) == 1'],
    ['the succeeding neighbour on the same target alerts', 'sidestash_backup_last_phase{phase="Failed"}) == 1', 'sidestash_backup_last_phase) == 1'],
    ['one success hides a failure on the same target', 'max by (namespace, configuration, target) (sidestash_backup_last_phase{phase="Failed"}) == 1', 'max by (namespace, configuration, target) (sidestash_backup_last_phase{phase="Failed"}) == 1 unless on (namespace, target) max by (namespace, target) (sidestash_backup_last_phase{phase="Succeeded"}) == 1'],
    ['a 20 h grace period', '+ 7200)', '+ 72000)'],
    ['no grace period', '+ 7200)', '+ 0)'],
    ['a paused configuration with a period alerts as too old', '(max by (namespace, configuration, target) (sidestash_backup_schedule_period_seconds) + 7200)\n  unless on (namespace, configuration, target)\n  (max by (namespace, configuration, target) (sidestash_backup_paused) == 1)', '(max by (namespace, configuration, target) (sidestash_backup_schedule_period_seconds) + 7200)'],
    ['a configuration without a success never alerts', '          or\n          max by (namespace, configuration, target) (sidestash_backup_configuration_created_timestamp_seconds)\n', ''],
    ['a stale pushed integrity failure overrides the controller', '\n    unless on (namespace, repository) sidestash_repository_integrity', ''],
    ['stuck Pending after 30m', '{phase="Pending"}) > 900', '{phase="Pending"}) > 1800'],
    ['stuck Running after 12h', '{phase="Running"}) > 21600', '{phase="Running"}) > 43200'],
    ['an upgraded agent alerts for its old version', 'max by (namespace, name) (sidestash_agent_online) == 0', 'sidestash_agent_online == 0'],
    ['binlog lag alerts only after 15m', '(sidestash_binlog_archive_lag_seconds) > 300', '(sidestash_binlog_archive_lag_seconds) > 900'],
    ['a dead archiver is not down', 'max by (namespace, configuration, target) (sidestash_binlog_archive_up) == 0', 'max by (namespace, configuration, target) (sidestash_binlog_archive_up) == 0 unless on (namespace, configuration, target) sidestash_binlog_archive_lag_seconds > 0'],
    ['a standing gap count alerts forever', '(max_over_time(sidestash_binlog_archive_gaps[1h]) - min_over_time(sidestash_binlog_archive_gaps[1h])) > 0', '(sidestash_binlog_archive_gaps) > 0'],
    ['absent controller metrics never alert', 'absent(sidestash_agents_online)', 'absent(sidestash_agents_online) unless on() vector(1)'],
  ];
  describe('mutants', { concurrency: 3 }, () => {
    for (const [what, from, to] of mutants) {
      it(`unit tests reject a mutant: ${what}`, async () => {
        // Any run of white space in `from` matches any run (the rules file's indentation).
        const pattern = new RegExp(from.trim().split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\s+'));
        assert.match(rulesText, pattern, `mutation site found: ${from}`);
        const mutated = rulesText.replace(pattern, to);
        assert.notEqual(mutated, rulesText);
        const name = what.replace(/[^a-z0-9]+/gi, '-');
        const rules = join(dir.path, `${name}.rules.yaml`);
        await writeFile(rules, mutated);
        assert.equal((await promtool('check', 'rules', rules)).code, 0, 'the mutant is valid PromQL');
        const unit = (await readFile(UNIT_TESTS, 'utf8')).replace('../../charts/sidestash/files/sidestash-alerts.rules.yaml', rules);
        const unitFile = join(dir.path, `${name}.test.yaml`);
        await writeFile(unitFile, unit);
        const r = await promtool('test', 'rules', unitFile);
        assert.notEqual(r.code, 0, `the unit tests pass a mutant (${what}):\n${r.output}`);
      });
    }
  });

  it('promtool check rules rejects a broken expression', async () => {
    const rules = join(dir.path, 'broken.rules.yaml');
    await writeFile(rules, rulesText.replace('sidestash_agent_online) == 0', 'sidestash_agent_online) == '));
    const r = await promtool('check', 'rules', rules);
    assert.notEqual(r.code, 0, r.output);
  });
});
