// spec.limitUploadKiBps on apply: an integer from 1 to 10485760 (KiB/s), else refused with its
// field path (the agent checks the assignment's value again: agent/backend-settings.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateResource } from './validate.ts';

const config = (limitUploadKiBps: unknown) => ({
  apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name: 'nightly', namespace: 'edge' },
  spec: { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } }, limitUploadKiBps },
});

describe('spec.limitUploadKiBps on apply', () => {
  for (const ok of [1, 256, 10_485_760]) {
    it(`accepts ${ok}`, () => assert.deepEqual(validateResource(config(ok)), []));
  }
  for (const bad of [0, -5, 1.5, 10_485_761, '256', null, true, {}]) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.deepEqual(validateResource(config(bad)).map((e) => e.field), ['spec.limitUploadKiBps']));
  }
});
