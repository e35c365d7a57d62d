import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../errors.ts';
import { assertSafeRepositoryLocation, localRepositoryPathProblem } from './repository-path.ts';

const ALLOWED = ['/backup', '/srv/backups/mariadb', '/tmp/repo', '/var/backups/shop', '/mnt/nfs/sidestash', '/data/repo-1', '/home/dba/backups', '/var/lib/sidestash', '/backups/v1.2_x+y@z=1,2:3'];
const REFUSED: [string, RegExp][] = [
  ['', /absolute/],
  ['backups', /absolute/],
  ['./backups', /absolute/],
  ['/', /itself/],
  ['/etc', /system directory \/etc/],
  ['/etc/cron.d', /system directory \/etc/],
  ['/proc/self/fd', /\/proc/],
  ['/sys/kernel', /\/sys/],
  ['/dev/shm/repo', /\/dev/],
  ['/usr', /\/usr/],
  ['/usr/local/bin', /\/usr/],
  ['/bin', /\/bin/],
  ['/sbin', /\/sbin/],
  ['/lib', /\/lib/],
  ['/lib64/x', /\/lib64/],
  ['/boot', /\/boot/],
  ['/run/mysqld', /\/run/],
  ['/var/run/x', /\/var\/run/],
  ['/root', /\/root/],
  ['/var/lib/mysql', /\/var\/lib\/mysql/],
  ['/var/lib/mysql/backups', /\/var\/lib\/mysql/],
  ['/var', /itself/],
  ['/var/lib', /itself/],
  ['/tmp', /itself/],
  ['/home', /itself/],
  ['/srv/../etc', /"\.\."/],
  ['/srv/backups/..', /"\.\."/],
  ['/srv/./backups', /"\."/],
  ['/srv//backups', /normalised \("\/srv\/backups"\)/],
  ['/srv/backups/', /normalised/],
  ['//etc', /normalised/],
  ['/home/dba/.ssh', /segment "\.ssh"/],
  ['/srv/back ups', /segment/],
  ['/srv/x\ny', /segment/],
  ['/srv/x\u0000', /segment/],
];

describe('local repository paths', () => {
  for (const p of ALLOWED) it(`allows ${p}`, () => assert.equal(localRepositoryPathProblem(p), undefined));
  for (const [p, message] of REFUSED) {
    it(`refuses ${JSON.stringify(p)}`, () => {
      const problem = localRepositoryPathProblem(p);
      assert.ok(problem, 'refused');
      assert.match(problem, message);
    });
  }
  it('checks local: and plain locations, not S3 or REST ones', () => {
    assert.throws(() => assertSafeRepositoryLocation('local:/etc'), (err) => isSidestashError(err, ErrorCodes.INVALID_CONFIG) && /"\/etc" must not be inside/.test(err.message));
    assert.throws(() => assertSafeRepositoryLocation('/proc/1'), (err) => isSidestashError(err, ErrorCodes.INVALID_CONFIG));
    assert.doesNotThrow(() => assertSafeRepositoryLocation('local:/srv/backups'));
    assert.doesNotThrow(() => assertSafeRepositoryLocation('s3:https://s3.example/bucket/etc'));
    assert.doesNotThrow(() => assertSafeRepositoryLocation('rest:http://host:8000/'));
  });
});
