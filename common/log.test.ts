import assert from 'node:assert/strict';
import { it } from 'node:test';
import { REDACTED, createLogger } from './log.ts';

it('writes JSON lines with secrets redacted, nested too', () => {
  const lines: string[] = [];
  const log = createLogger({ component: 'test' }, { write: (l) => lines.push(l), level: 'debug' });
  log.info('hello', { password: 'hunter2', nested: { RESTIC_PASSWORD: 'x', token: 't', ok: 1 }, list: [{ secretKey: 's' }] });
  log.child({ session: 'b1' }).debug('child', { authorization: 'Bearer abc' });
  assert.equal(lines.length, 2);
  const first = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(first.msg, 'hello');
  assert.equal(first.component, 'test');
  assert.equal(first.password, REDACTED);
  assert.deepEqual(first.nested, { RESTIC_PASSWORD: REDACTED, token: REDACTED, ok: 1 });
  assert.deepEqual(first.list, [{ secretKey: REDACTED }]);
  assert.ok(!lines.join('').includes('hunter2') && !lines.join('').includes('Bearer abc'));
  assert.equal((JSON.parse(lines[1]!) as Record<string, unknown>).session, 'b1');
});

it('honours the level', () => {
  const lines: string[] = [];
  createLogger({}, { write: (l) => lines.push(l), level: 'warn' }).info('quiet');
  assert.equal(lines.length, 0);
});
