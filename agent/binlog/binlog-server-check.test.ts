// The server check's rule on tables: a refusal per problem, a warning per risk, all reported
// together. (test/binlog-server.test.ts checks real servers configured each way.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assessBinlogServer, globalPrivileges } from './binlog-server-check.ts';
import type { BinlogServerFacts } from './binlog-server-check.ts';

const GOOD: BinlogServerFacts = { logBin: true, binlogFormat: 'ROW', serverId: 7, binlogChecksum: 'CRC32', expireLogsDays: 0, expireLogsSeconds: 0, privileges: ['REPLICATION SLAVE', 'BINLOG MONITOR'] };

describe('assessBinlogServer', () => {
  it('accepts a suitable server', () => assert.deepEqual(assessBinlogServer(GOOD), { problems: [], warnings: [] }));

  const refusals: [string, Partial<BinlogServerFacts>, RegExp][] = [
    ['log_bin off', { logBin: false }, /log_bin is OFF/],
    ['server_id 0', { serverId: 0 }, /server_id is 0/],
    ['an unknown binlog_format', { binlogFormat: 'WHATEVER' }, /binlog_format "WHATEVER"/],
    ['an unknown checksum', { binlogChecksum: 'SHA1' }, /binlog_checksum "SHA1"/],
    ['no REPLICATION SLAVE', { privileges: ['BINLOG MONITOR'] }, /lacks REPLICATION SLAVE/],
    ['no BINLOG MONITOR or SUPER', { privileges: ['REPLICATION SLAVE'] }, /lacks BINLOG MONITOR/],
  ];
  for (const [name, change, what] of refusals) {
    it(`refuses ${name}`, () => {
      const { problems } = assessBinlogServer({ ...GOOD, ...change });
      assert.equal(problems.length, 1);
      assert.match(problems[0]!, what);
    });
  }

  it('reports every problem at once', () => assert.equal(assessBinlogServer({ ...GOOD, logBin: false, serverId: 0, privileges: [] }).problems.length, 4));

  it('takes SUPER or ALL PRIVILEGES for BINLOG MONITOR, and NONE for a checksum', () => {
    assert.deepEqual(assessBinlogServer({ ...GOOD, privileges: ['REPLICATION SLAVE', 'SUPER'] }).problems, []);
    assert.deepEqual(assessBinlogServer({ ...GOOD, privileges: ['ALL PRIVILEGES'] }).problems, []);
    assert.deepEqual(assessBinlogServer({ ...GOOD, binlogChecksum: 'NONE' }).problems, []);
  });

  const warnings: [string, Partial<BinlogServerFacts>, RegExp][] = [
    ['MIXED', { binlogFormat: 'MIXED' }, /ROW is recommended/],
    ['STATEMENT', { binlogFormat: 'statement' }, /ROW is recommended/],
    ['binlogs kept an hour', { expireLogsSeconds: 3600 }, /purged after 3600 s/],
    ['binlogs kept a fraction of a day (expire_logs_days)', { expireLogsSeconds: 0, expireLogsDays: 0.5 }, /purged after 43200 s/],
  ];
  for (const [name, change, what] of warnings) {
    it(`warns of ${name}`, () => {
      const r = assessBinlogServer({ ...GOOD, ...change });
      assert.deepEqual(r.problems, []);
      assert.equal(r.warnings.length, 1);
      assert.match(r.warnings[0]!, what);
    });
  }

  it('does not warn of binlogs kept a day or forever', () => {
    assert.deepEqual(assessBinlogServer({ ...GOOD, expireLogsSeconds: 86_400 }).warnings, []);
    assert.deepEqual(assessBinlogServer({ ...GOOD, expireLogsSeconds: 0, expireLogsDays: 0 }).warnings, []);
  });

  it('reads global privileges from SHOW GRANTS, not those on one database', () => {
    assert.deepEqual(globalPrivileges(["GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `a`@`%` IDENTIFIED BY PASSWORD '*X'", 'GRANT ALL PRIVILEGES ON `shop`.* TO `a`@`%`']), ['REPLICATION SLAVE', 'BINLOG MONITOR']);
  });
});
