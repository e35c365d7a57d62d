// Validation messages speak human: no regular expression ever reaches a person, a bad cron
// expression says so and shows the accepted forms, and an unknown field suggests the known one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { knownPatterns } from './pattern-messages.ts';
import { resourceSchema } from './schemas.ts';
import { KINDS } from './types.ts';
import { validateResource } from './validate.ts';

const config = (spec: Record<string, unknown>): unknown => ({
  apiVersion: 'sidestash.io/v1',
  kind: 'BackupConfiguration',
  metadata: { name: 'nightly', namespace: 'shop' },
  spec: { schedule: '0 1 * * *', repository: { name: 'repo' }, target: { ref: { kind: 'AppBinding', name: 'db' } }, ...spec },
});

function patternsIn(schema: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(schema)) for (const s of schema) patternsIn(s, out);
  else if (schema && typeof schema === 'object') {
    for (const [k, v] of Object.entries(schema)) {
      if (k === 'pattern' && typeof v === 'string') out.add(v);
      else patternsIn(v, out);
    }
  }
  return out;
}

/** Text that only a regular expression would hold. */
const REGEX_TEXT = /must match pattern|\^\[|\]\{|\\[sdSw.]|\(\?:|\$"|\[A-Za-z|\[a-z0-9/;

describe('validation messages', () => {
  it('every pattern of every schema has a human message', () => {
    const all = new Set<string>();
    for (const k of KINDS) patternsIn(resourceSchema(k), all);
    assert.ok(all.size >= 8, `found ${all.size} patterns`);
    const missing = [...all].filter((p) => !knownPatterns().includes(p));
    assert.deepEqual(missing, []);
  });

  const bad: [string, unknown, string, RegExp][] = [
    ['a schedule that is words', config({ schedule: 'every day' }), 'spec.schedule', /"every day" is not a cron expression: it has 2 fields, not 5 to 7; accepted: five fields "MINUTE HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK" \(e\.g\. "30 2 \* \* \*"/],
    ['a schedule with a minute out of range', config({ schedule: '61 * * * *' }), 'spec.schedule', /"61 \* \* \* \*" is not a cron expression: 61 is not a valid minute; accepted: five fields/],
    ['a schedule with letters', config({ schedule: 'a b c d e' }), 'spec.schedule', /is not a cron expression: field 1 \("a"\) holds characters a cron field cannot; accepted:.*@daily/],
    ['an unknown shortcut', config({ schedule: '@sometimes' }), 'spec.schedule', /"@sometimes" is not a known shortcut; accepted:.*@hourly/],
    ['a time zone', config({ timezone: 'not a zone' }), 'spec.timezone', /must be an IANA time zone such as UTC, Europe\/Berlin/],
    ['a duration', config({ timeout: '3 days' }), 'spec.timeout', /must be a duration such as 30s, 5m, 1h30m/],
    ['a misspelt field', config({ scheduel: '0 1 * * *' }), 'spec.scheduel', /^unknown field \(did you mean schedule\?\)$/],
    ['a field nothing is close to', config({ zzzzzzzz: 1 }), 'spec.zzzzzzzz', /^unknown field \(known fields: .*schedule/],
    ['a resource name', { ...(config({}) as object), metadata: { name: 'Nightly_1', namespace: 'shop' } }, 'metadata.name', /must be a name of lower-case letters, digits/],
    ['Secret data not base64', { apiVersion: 'sidestash.io/v1', kind: 'Secret', metadata: { name: 's', namespace: 'shop' }, spec: { data: { RESTIC_PASSWORD: 'not base64!' } } }, 'spec.data.RESTIC_PASSWORD', /must be base64-encoded/],
    ['a Secret key', { apiVersion: 'sidestash.io/v1', kind: 'Secret', metadata: { name: 's', namespace: 'shop' }, spec: { data: { 'a key': 'eA==' } } }, 'spec.data.a key', /^key must be a key of 1 to 253 letters/],
    ['a snapshot', { apiVersion: 'sidestash.io/v1', kind: 'RestoreSession', metadata: { name: 'r', namespace: 'shop' }, spec: { repository: { name: 'repo' }, target: { ref: { kind: 'AppBinding', name: 'db' } }, snapshot: 'newest' } }, 'spec.snapshot', /must be "latest" or a snapshot ID/],
  ];
  for (const [name, doc, field, want] of bad) {
    it(name, () => {
      const errors = validateResource(doc);
      const e = errors.find((x) => x.field === field);
      assert.ok(e, `no problem at ${field}: ${JSON.stringify(errors)}`);
      assert.match(e.message, want);
      for (const x of errors) assert.doesNotMatch(x.message, REGEX_TEXT, `${x.field}: ${x.message}`);
    });
  }
});
