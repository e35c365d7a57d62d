// A schedule croner reads but that never fires (a date, a day that does not exist, a year gone)
// is refused at apply: accepted, the configuration would never back up, and nothing would say so.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { validateResource } from './validate.ts';

const errorsFor = (schedule: string, timezone?: string) =>
  validateResource({ apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name: 'c', namespace: 'default' }, spec: { schedule, ...(timezone ? { timezone } : {}), repository: { name: 'repo' }, target: { ref: { name: 'db' } } } } as never)
    .filter((e) => e.field === 'spec.schedule');

for (const [schedule, why] of [
  ['0:0 0 * * *', /a date and time/],
  ['0 0 30 2 *', /never fires/],
  ['0 0 0 1 1 * 2020', /never fires/],
] as const) {
  it(`refuses ${JSON.stringify(schedule)}, which croner reads but never fires`, () => {
    const errors = errorsFor(schedule);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0]!.message, why);
  });
}

it('accepts schedules that fire, rare ones and ones in a zone too', () => {
  for (const schedule of ['30 2 * * *', '0 0 29 2 *', '0 0 0 1 1 * 2099', '@yearly']) assert.deepEqual(errorsFor(schedule), [], schedule);
  assert.deepEqual(errorsFor('30 2 * * *', 'Europe/Berlin'), []);
});
