import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import type { ErrorCode } from '../common/errors.ts';
import { exitCodeFor } from './exit-codes.ts';
import type { ExitContext } from './exit-codes.ts';

const e = (code: ErrorCode) => new SidestashError(code, 'x');
const repo = { repoCommand: true };
const other = { repoCommand: false };

describe('exitCodeFor', () => {
  const table: [string, unknown, ExitContext, number][] = [
    ['usage error', e(ErrorCodes.INVALID_ARGUMENT), other, 2],
    ['usage error in repo', e(ErrorCodes.INVALID_ARGUMENT), repo, 2],
    ['plain failure', e(ErrorCodes.BACKEND_IO), repo, 1],
    ['not a SidestashError', new Error('boom'), other, 1],
    ['repository does not exist (repo)', e(ErrorCodes.NOT_A_REPOSITORY), repo, 10],
    ['failed to lock (repo)', e(ErrorCodes.REPOSITORY_LOCKED), repo, 11],
    ['wrong password (repo)', e(ErrorCodes.WRONG_PASSWORD), repo, 12],
    ['restic codes only for repo', e(ErrorCodes.NOT_A_REPOSITORY), other, 1],
    ['restic codes only for repo (lock)', e(ErrorCodes.REPOSITORY_LOCKED), other, 1],
    ['aborted', e(ErrorCodes.ABORTED), other, 130],
    ['interrupted, whatever the error', new Error('stream closed'), { repoCommand: true, interrupted: 'SIGINT' }, 130],
    ['interrupted wins over wrong password', e(ErrorCodes.WRONG_PASSWORD), { repoCommand: true, interrupted: 'SIGINT' }, 130],
    ['terminated', e(ErrorCodes.ABORTED), { repoCommand: false, interrupted: 'SIGTERM' }, 143],
  ];
  for (const [name, err, ctx, code] of table) it(name, () => assert.equal(exitCodeFor(err, ctx), code));
});
