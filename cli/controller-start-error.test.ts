import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, SidestashError, isSidestashError } from '../common/errors.ts';
import { controllerStartError } from './controller-start-error.ts';

const fsError = (code: string, syscall: string, path: string) => Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path });

describe('controllerStartError', () => {
  const db = '/var/lib/sidestash/controller.db';
  // [case, error, expected code (undefined: passed on unchanged), message pattern]
  const table: [string, unknown, string | undefined, RegExp | undefined][] = [
    ['the state directory cannot be created', fsError('EACCES', 'mkdir', '/var/lib/sidestash'), ErrorCodes.INVALID_CONFIG, /^SIDESTASH_DB=\/var\/lib\/sidestash\/controller\.db: cannot mkdir \/var\/lib\/sidestash \(EACCES\); .*\/var\/lib\/sidestash, .*\(uid 1000\) may create and write$/],
    ['the database file cannot be opened', fsError('EACCES', 'open', db), ErrorCodes.INVALID_CONFIG, /^SIDESTASH_DB=.*: cannot open \/var\/lib\/sidestash\/controller\.db \(EACCES\)/],
    ['a file beside it (the encryption key)', fsError('EROFS', 'open', '/var/lib/sidestash/encryption.key'), ErrorCodes.INVALID_CONFIG, /^SIDESTASH_DB=.*: cannot open \/var\/lib\/sidestash\/encryption\.key \(EROFS\)/],
    ['a directory above it is a regular file', fsError('ENOTDIR', 'mkdir', '/var/lib'), ErrorCodes.INVALID_CONFIG, /^SIDESTASH_DB=.*: cannot mkdir \/var\/lib \(ENOTDIR\)/],
    ['a file elsewhere is not blamed on SIDESTASH_DB', fsError('EACCES', 'open', '/etc/tls/api.crt'), ErrorCodes.INVALID_CONFIG, /^the controller cannot open \/etc\/tls\/api\.crt \(EACCES\)$/],
    ['a sibling directory with the same prefix is elsewhere', fsError('EACCES', 'open', '/var/lib/sidestash-other/x'), ErrorCodes.INVALID_CONFIG, /^the controller cannot open/],
    ['not a file-system errno', Object.assign(new Error('database is locked'), { code: 'ERR_SQLITE_ERROR', path: db }), undefined, undefined],
    ['an errno without a path', Object.assign(new Error('no space'), { code: 'ENOSPC' }), undefined, undefined],
    ['already a SidestashError', new SidestashError(ErrorCodes.INVALID_CONFIG, 'api cannot listen'), undefined, undefined],
    ['not an object', 'boom', undefined, undefined],
  ];
  for (const [name, err, code, pattern] of table) {
    it(name, () => {
      const out = controllerStartError(err, db, 1000);
      if (code === undefined) return assert.equal(out, err);
      assert.ok(isSidestashError(out), String(out));
      assert.equal(out.code, code);
      assert.match(out.message, pattern!);
      assert.equal(out.details.errno, (err as { code: string }).code);
    });
  }

  it('without a uid (Windows) it names the user without one', () => {
    const out = controllerStartError(fsError('EACCES', 'mkdir', '/var/lib/sidestash'), db, undefined) as SidestashError;
    assert.match(out.message, /the user running the controller may create/);
  });
});
