// RestoreSession spec.tables and spec.targetDatabase: what the API accepts, and each refusal with
// its field path (the schema's allow-list pattern, then restore-rules.ts's meaning rules).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateResource } from './validate.ts';

const restore = (spec: Record<string, unknown>) => ({
  apiVersion: 'sidestash.io/v1',
  kind: 'RestoreSession',
  metadata: { name: 'r', namespace: 'shop' },
  spec: { repository: { name: 'repo' }, target: { ref: { kind: 'AppBinding', name: 'db' } }, ...spec },
});

describe('RestoreSession granular fields', () => {
  const accepted: [string, Record<string, unknown>][] = [
    ['tables', { tables: ['shop.orders', 'shop.customers'] }],
    ['tables of two databases', { tables: ['shop.orders', 'crm.contacts'] }],
    ['tables into another database', { tables: ['shop.orders'], targetDatabase: 'shop_restored' }],
    ['a database into another', { database: 'shop', targetDatabase: 'shop2' }],
  ];
  for (const [name, spec] of accepted) it(`accepts ${name}`, () => assert.deepEqual(validateResource(restore(spec)), []));

  const refused: [string, Record<string, unknown>, string, RegExp][] = [
    ['a table without its database', { tables: ['orders'] }, 'spec.tables[0]', /must be DATABASE\.TABLE/],
    ['a table name with a backtick', { tables: ['shop.or`ders'] }, 'spec.tables[0]', /must be DATABASE\.TABLE/],
    ['a table name with a second dot', { tables: ['shop.orders.x'] }, 'spec.tables[0]', /must be DATABASE\.TABLE/],
    ['an empty list', { tables: [] }, 'spec.tables', /fewer than 1|at least 1|minItems|must NOT have fewer/],
    ['a target name with a space', { database: 'shop', targetDatabase: 'a b' }, 'spec.targetDatabase', /must be a database name/],
    ['a database and tables', { database: 'shop', tables: ['shop.orders'] }, 'spec.database', /not both/],
    ['a target without a selection', { targetDatabase: 'x' }, 'spec.targetDatabase', /needs spec\.database or spec\.tables/],
    ['a target for tables of two databases', { tables: ['shop.orders', 'crm.contacts'], targetDatabase: 'x' }, 'spec.targetDatabase', /spans 2 databases/],
  ];
  for (const [name, spec, field, re] of refused) {
    it(`refuses ${name} (${field})`, () => {
      const errors = validateResource(restore(spec));
      const e = errors.find((x) => x.field === field);
      assert.ok(e, JSON.stringify(errors));
      assert.match(e.message, re);
    });
  }
});
