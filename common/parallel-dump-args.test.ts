import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from './errors.ts';
import { parallelDumpSelection, requireParallelDumpSelection } from './parallel-dump-args.ts';

const DEFAULT = ['--all-databases', '--single-transaction', '--routines', '--events', '--triggers', '--default-character-set=binary'];

describe('dumpArgs for the parallel dumper', () => {
  it('maps what it supports', () => {
    const table: [string[], object][] = [
      [DEFAULT, {}],
      [['--databases', 'shop', 'crm', '--where=id > 10'], { databases: ['shop', 'crm'], where: 'id > 10' }],
      [['-B', 'shop'], { databases: ['shop'] }],
      [['shop'], { databases: ['shop'] }],
      [['--all-databases', '--net-buffer-length=64K', '--hex-blob', '--opt', '--default-character-set=utf8mb4'], { maxStatementBytes: 65536 }],
    ];
    for (const [args, selection] of table) assert.deepEqual(parallelDumpSelection(args), { selection, problems: [] }, args.join(' '));
  });

  it('refuses, with a reason, what it does not do', () => {
    const table: [string[], RegExp][] = [
      [['shop', 'orders'], /list of tables is not supported/],
      [['--all-databases', '--no-data'], /--no-data is not supported with spec.dumper: parallel/],
      [['--all-databases', '--ignore-table=shop.x'], /--ignore-table is not supported/],
      [['--all-databases', '--skip-triggers'], /--skip-triggers is not supported/],
      [['--all-databases', '--compact'], /--compact is not supported/],
      [['--all-databases', '--default-character-set=latin1'], /as stored \(SET NAMES binary\)/],
      [['--single-transaction'], /name the databases/],
      [['--databases'], /at least one database/],
      [['--all-databases', '--where=1; DROP TABLE x'], /./],
      [['--all-databases', '--tab=/tmp'], /./],
    ];
    for (const [args, message] of table) {
      const { problems } = parallelDumpSelection(args);
      assert.ok(problems.length > 0, args.join(' '));
      assert.match(problems.map((p) => p.message).join('; '), message, args.join(' '));
    }
  });

  it('the agent refuses them with DUMP_ARGS_REFUSED', () => {
    assert.throws(() => requireParallelDumpSelection(['shop', 'orders']), (err: unknown) => isSidestashError(err, ErrorCodes.DUMP_ARGS_REFUSED));
    assert.deepEqual(requireParallelDumpSelection(['--databases', 'a']), { databases: ['a'] });
  });
});
