// Group paths of the Pushgateway API: plain where safe, base64url where a value could change the path.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupPath } from './pushgateway-client.ts';

describe('groupPath', () => {
  const table: [string, Record<string, string>, string][] = [
    ['backupconfiguration-demo-nightly', {}, '/metrics/job/backupconfiguration-demo-nightly'],
    ['sidestash-progress', { namespace: 'demo', invoker_name: 'n', invoker_kind: 'BackupConfiguration' }, '/metrics/job/sidestash-progress/invoker_kind/BackupConfiguration/invoker_name/n/namespace/demo'],
    ['a/b', {}, `/metrics/job@base64/${Buffer.from('a/b').toString('base64url')}`],
    ['j', { namespace: '' }, '/metrics/job/j/namespace@base64/='],
    ['j', { x: '..' }, `/metrics/job/j/x@base64/${Buffer.from('..').toString('base64url')}`],
    ['j', { x: '../../api' }, `/metrics/job/j/x@base64/${Buffer.from('../../api').toString('base64url')}`],
  ];
  for (const [job, grouping, want] of table) it(`${job} ${JSON.stringify(grouping)}`, () => assert.equal(groupPath(job, grouping), want));
});
