import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wholeServerDumpProblem } from './whole-server-dump.ts';

describe('whole-server dump (the start of a point-in-time restore)', () => {
  const table: [string[], RegExp | undefined][] = [
    [['--all-databases', '--single-transaction', '--routines', '--events', '--triggers', '--default-character-set=binary'], undefined],
    [['-A', '--skip-opt', '--hex-blob', '--net-buffer-length=1M'], undefined],
    [['--single-transaction', '--databases', 'shop'], /--all-databases/],
    [['--all-databases', '--where=id > 1'], /--where leaves part/],
    [['--all-databases', '--ignore-table-data=shop.big'], /--ignore-table-data/],
    [['--all-databases', '--ignore-table=shop.t'], /--ignore-table/],
    [['--all-databases', '--no-data'], /--no-data/],
    [['--all-databases', '--no-create-info'], /--no-create-info/],
    [['--all-databases', '--skip-triggers'], /--skip-triggers/],
    [['--all-databases', '--skip-comments'], /--skip-comments/],
    [['--all-databases', '--compact'], /--compact/],
  ];
  for (const [args, want] of table) {
    it(`${args.join(' ')}: ${want ? 'refused' : 'whole'}`, () => {
      const p = wholeServerDumpProblem(args);
      if (want) assert.match(p ?? '', want);
      else assert.equal(p, undefined);
    });
  }
});
