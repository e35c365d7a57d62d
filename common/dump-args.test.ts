// The dumpArgs allow-list: a table of accepted inputs with their canonical form, a table of
// refused ones (each way my_getopt lets an option be spelled), and the real mariadb-dump
// showing that each accepted input and its canonical form mean the same to it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { normaliseDumpArgs, requireSafeDumpArgs } from './dump-args.ts';
import { ErrorCodes, isSidestashError } from './errors.ts';
import { ALLOWED_DUMP_OPTIONS, MARIADB_DUMP_OPTIONS } from './mariadb-dump-options.ts';
import { whereConditionProblem } from './sql-where.ts';

const ACCEPTED: [string[], string[]][] = [
  [['--databases', 'shop', 'crm'], ['--databases', 'shop', 'crm']],
  [['shop', 'orders', 'customers'], ['shop', 'orders', 'customers']],
  [['-B', 'shop', '--single-transaction', 'crm'], ['--databases', '--single-transaction', 'shop', 'crm']],
  [['--all-databases', '--ignore-database=mysql', '--ignore-database', 'sys'], ['--all-databases', '--ignore-database=mysql', '--ignore-database=sys']],
  [['--all_databases'], ['--all-databases']],
  [['--single'], ['--single-transaction']],
  [['--rout', '--eve', '--trig'], ['--routines', '--events', '--triggers']],
  [['-AREv'], ['--all-databases', '--routines', '--events', '--verbose']],
  [['--skip-lock-tables'], ['--skip-lock-tables']],
  [['--skip_lock_tables'], ['--skip-lock-tables']],
  [['--disable-add-locks', '--enable-hex-blob'], ['--skip-add-locks', '--hex-blob']],
  [['--loose-single-transaction', '--loose-skip-tz-utc'], ['--single-transaction', '--skip-tz-utc']],
  [['--lock-tables=0', '--routines=ON', '--events=false'], ['--skip-lock-tables', '--routines', '--skip-events']],
  [['--ignore-table=shop.audit', '--ignore-table-data', 'shop.big'], ['--ignore-table=shop.audit', '--ignore-table-data=shop.big']],
  [['--where', "created_at >= NOW() - INTERVAL 7 DAY AND status IN ('a', 'b')"], ["--where=created_at >= NOW() - INTERVAL 7 DAY AND status IN ('a', 'b')"]],
  [['-wid>1'], ['--where=id>1']],
  [['-w', '`select` IS NOT NULL'], ['--where=`select` IS NOT NULL']],
  [['--default-character-set=UTF8MB4'], ['--default-character-set=UTF8MB4']],
  [['--max_allowed_packet=16M', '--net-buffer-length', '1m'], ['--max-allowed-packet=16777216', '--net-buffer-length=1048576']],
  [['--max-statement-time=30'], ['--max-statement-time=30']],
  [['--opt', '--skip-opt', '--compact', '--tables', 'shop', 'orders'], ['--opt', '--skip-opt', '--compact', '--tables', 'shop', 'orders']],
  [['--add-drop-database', '--add-drop-trigger', '--no-data', '--no-create-info', '--no-create-db', '--complete-insert', '--extended-insert', '--insert-ignore', '--replace', '--order-by-primary', '--skip-comments', '--tz-utc', '--quick', '--hex-blob'],
    ['--add-drop-database', '--add-drop-trigger', '--no-data', '--no-create-info', '--no-create-db', '--complete-insert', '--extended-insert', '--insert-ignore', '--replace', '--order-by-primary', '--skip-comments', '--tz-utc', '--quick', '--hex-blob']],
  [['--', 'shop', 'orders'], ['shop', 'orders']],
];

/** [input, index of the refused argument, what the message says] */
const REFUSED: [unknown[], number, RegExp][] = [
  [['--result-file=/tmp/x'], 0, /--result-file.*not allowed.*files/],
  [['--res=/tmp/x'], 0, /--res \(--result-file\) is not allowed/],
  [['--result_file', '/tmp/x'], 0, /--result-file/],
  [['--resu'], 0, /--result-file/],
  [['--loose-result-file=/tmp/x'], 0, /--result-file/],
  [['--skip-result-file'], 0, /--result-file/],
  [['--loose_skip_log_error'], 0, /--log-error/],
  [['-r/tmp/x'], 0, /-r \(--result-file\)/],
  [['-r', '/tmp/x'], 0, /-r \(--result-file\)/],
  [['-Ar/tmp/x'], 0, /-r \(--result-file\)/],
  [['--tab=/var/lib/mysql-files'], 0, /--tab/],
  [['-T/tmp'], 0, /--tab/],
  [['--log-error=/etc/cron.d/x'], 0, /--log-error/],
  [['--debug=d:o,/tmp/trace'], 0, /--debug/],
  [['-#d:o,/tmp/trace'], 0, /--debug/],
  [['--plugin-dir=/tmp'], 0, /plugins/],
  [['--plugin_d=/tmp'], 0, /--plugin-dir/],
  [['--default-auth=evil'], 0, /plugins/],
  [['--ssl-ca=/tmp/ca.pem'], 0, /connection/],
  [['--host=evil.example'], 0, /connection/],
  [['-hevil.example'], 0, /--host/],
  [['-uroot'], 0, /--user/],
  [['-p'], 0, /--password/],
  [['--pass=x'], 0, /--password/],
  [['--defaults-file=/tmp/my.cnf'], 0, /not a mariadb-dump option/],
  [['--no-defaults'], 0, /not a mariadb-dump option/],
  [['--delete-master-logs'], 0, /--delete-master-logs/],
  [['--master-data=1'], 0, /--master-data/],
  [['--dump-slave'], 0, /--dump-slave/],
  [['--flush-logs'], 0, /--flush-logs/],
  [['-F'], 0, /--flush-logs/],
  [['--system=users'], 0, /--system.*restore would apply/],
  [['--xml'], 0, /--xml/],
  [['--force'], 0, /--force/],
  [['--character-sets-dir=/tmp'], 0, /--character-sets-dir/],
  [['--d'], 0, /ambiguous/],
  [['--de'], 0, /ambiguous/],
  [['--no-d'], 0, /ambiguous/],
  [['--skip-lock'], 0, /ambiguous/],
  [['--frobnicate'], 0, /not a mariadb-dump option/],
  [['-Z'], 0, /-Z is not a mariadb-dump option/],
  [['--maximum-max-allowed-packet=1G'], 0, /--maximum-/],
  [['--skip-where'], 0, /on\/off options/],
  [['--skip-routines=1'], 0, /takes no value/],
  [['--routines=maybe'], 0, /not 0, 1/],
  [['--opt=1'], 0, /takes no value/],
  [['--where'], 0, /needs a value/],
  [['--where', 'id>1; DROP TABLE x'], 0, /";"/],
  [['--where=1 INTO OUTFILE "/tmp/x"'], 0, /INTO/],
  [['--where=1 UNION SELECT 1'], 0, /UNION/],
  [['--where=sys_exec("touch /tmp/x")'], 0, /sys_exec/],
  [['--where=`sys_exec`("x")'], 0, /quoted function/],
  [['--where=shop.lower(x)'], 0, /of a schema/],
  [['--where=1 /*!50000 INTO OUTFILE "/tmp/x" */'], 0, /comment/],
  [['--where=1 -- x'], 0, /comment/],
  [['--where=load_file("/etc/passwd") IS NULL'], 0, /load_file/],
  [["--where=a = 'x\\' INTO OUTFILE '/tmp/y' -- '"], 0, /backslash/],
  [['--where=a=1\nDROP DATABASE shop'], 0, /control character/],
  [['--where=@@secure_file_priv IS NULL'], 0, /"@"/],
  [['--ignore-table=orders'], 0, /database\.table/],
  [['--default-character-set=../../tmp/x'], 0, /character set/],
  [['--default-character-set=ucs2'], 0, /character set/],
  [['--max-allowed-packet=1T'], 0, /bytes/],
  [['--net-buffer-length=1'], 0, /bytes/],
  [['--databases', '-shop'], 1, /-s is not a mariadb-dump option/],
  [['--', '--result-file=/tmp/x'], 1, /must not start with "-"/],
  [['-'], 0, /must not start with "-"/],
  [['shop\nDROP'], 0, /control character/],
  [[''], 0, /empty/],
  [[42], 0, /must be a string/],
  [['--single-transaction', '--tab', '/tmp', 'shop', '-x', '--log-err=/x'], 1, /--tab/],
];

describe('dumpArgs allow-list', () => {
  for (const [input, canonical] of ACCEPTED) {
    it(`accepts ${JSON.stringify(input)}`, () => {
      const n = normaliseDumpArgs(input);
      assert.deepEqual(n.problems, []);
      assert.deepEqual(n.args, canonical);
      // The canonical form is a fixed point: it parses to itself.
      assert.deepEqual(normaliseDumpArgs(n.args).args, canonical);
    });
  }

  for (const [input, index, message] of REFUSED) {
    it(`refuses ${JSON.stringify(input)}`, () => {
      const n = normaliseDumpArgs(input);
      assert.ok(n.problems.length > 0, `accepted as ${JSON.stringify(n.args)}`);
      assert.equal(n.problems[0]!.index, index, JSON.stringify(n.problems));
      assert.match(n.problems[0]!.message, message);
    });
  }

  it('reports every problem, and requireSafeDumpArgs throws them with a stable code', () => {
    const input = ['--single-transaction', '--tab', '/tmp', 'shop', '-x', '--log-err=/x', '-uroot'];
    assert.deepEqual(normaliseDumpArgs(input).problems.map((p) => p.index), [1, 5, 6]);
    assert.throws(() => requireSafeDumpArgs(input), (err) => isSidestashError(err, ErrorCodes.DUMP_ARGS_REFUSED) && /dumpArgs\[1\]: --tab.*dumpArgs\[5\].*dumpArgs\[6\]/.test(err.message));
    assert.deepEqual(requireSafeDumpArgs(['-B', 'shop']).args, ['--databases', 'shop']);
  });

  it('knows whether the dump ends with the "-- Dump completed" comment', () => {
    const ends = (args: string[]) => normaliseDumpArgs(args).endsWithCompletedComment;
    assert.equal(ends([]), true);
    assert.equal(ends(['--skip-comments']), false);
    assert.equal(ends(['--comments=0']), false);
    assert.equal(ends(['--disable-comm']), false);
    assert.equal(ends(['--compact']), false);
    assert.equal(ends(['--compact', '--comments']), false, 'compact drops the footer, comments or not');
    assert.equal(ends(['--skip-comments', '-i']), true);
    assert.equal(ends(['--compact', '--skip-compact', '--comments']), true);
  });

  it('allows plain --where conditions only', () => {
    for (const ok of ["status = 'active'", 'id BETWEEN 1 AND 100', 'DATE(created) > CURDATE() - INTERVAL 1 MONTH', "`order`.`date` LIKE '2024-%'", 'x IS NULL OR NOT y', "name = 'O''Brien'"]) {
      assert.equal(whereConditionProblem(ok), undefined, ok);
    }
  });

  // mariadb-dump --help prints every variable as parsed from the options before it, so an
  // accepted input and its canonical form must print the same values.
  it('means to the real mariadb-dump what the canonical form means', async () => {
    const run = promisify(execFile);
    // Positional names do not matter: --help exits before they are used.
    const variables = async (args: string[]) => (await run('mariadb-dump', ['--no-defaults', ...args, '--help'])).stdout.split('Value (after reading options)')[1]!.trim().split('\n');
    for (const [input, canonical] of ACCEPTED) {
      const options = input.includes('--') ? input.slice(0, input.indexOf('--')) : input;
      assert.deepEqual(await variables(options), await variables(canonical), JSON.stringify(input));
    }
    // And the spellings refused above do reach the forbidden option in the real program.
    for (const spelling of ['--log_e=/tmp/sidestash-x', '--loose-log-err=/tmp/sidestash-x']) {
      assert.ok((await variables([spelling])).some((l) => /^log-error\s+\/tmp\/sidestash-x$/.test(l)), spelling);
    }
    // Every allowed on/off option, on and off, in its canonical spelling.
    for (const [name] of ALLOWED_DUMP_OPTIONS) {
      const option = MARIADB_DUMP_OPTIONS.find((o) => o.name === name)!;
      if (option.kind !== 'bool') continue;
      for (const [given, value] of [[`--${name}`, 'TRUE'], [`--skip-${name.replace(/-/g, '_')}`, 'FALSE']] as const) {
        const canonical = normaliseDumpArgs([given]).args;
        assert.ok((await variables(canonical)).some((l) => new RegExp(`^${name}\\s+${value}$`).test(l)), `${given} -> ${canonical.join(' ')}`);
      }
    }
    for (const ambiguous of ['--d', '--no-d', '--skip-lock']) await assert.rejects(run('mariadb-dump', ['--no-defaults', ambiguous]), /ambiguous option/);
  });
});
