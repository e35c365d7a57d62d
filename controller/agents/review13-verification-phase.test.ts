// REVIEW-13 FINDING 11 (low): the controller stores a restore the agent reports as Succeeded
// together with per-table results that say rows were lost (restoredRows != expectedRows): an
// agent's report is untrusted, and a verified restore must never read Succeeded with a mismatch
// on it (describe would show Succeeded and a mismatch marked). parseResult should refuse it.
// (FAILS on the code under review.)
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { parseResult } from './agent-reports.ts';

it('FINDING 11: a Succeeded result whose per-table check shows lost rows is refused', () => {
  const tables = [{ database: 'shop', table: 'orders', expectedRows: 10, restoredRows: 3 }];
  assert.throws(() => parseResult({ phase: 'Succeeded', tables }), (err) => isSidestashError(err, ErrorCodes.INVALID_ARGUMENT));
});
