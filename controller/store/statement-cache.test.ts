// Prepared statements are kept per database and SQL text, and dropped with forgetStatements.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { forgetStatements, statement } from './statement-cache.ts';

test('one statement per database and SQL text, prepared again after forgetStatements', () => {
  const a = new DatabaseSync(':memory:');
  const b = new DatabaseSync(':memory:');
  try {
    const sql = 'SELECT ? AS v';
    const first = statement(a, sql);
    assert.equal(statement(a, sql), first, 'the same statement for the same text');
    assert.notEqual(statement(a, 'SELECT 2 AS v'), first);
    assert.notEqual(statement(b, sql), first, 'each database its own');
    assert.deepEqual({ ...(statement(a, sql).get(7) as object) }, { v: 7 }, 'reused with new parameters');
    assert.deepEqual({ ...(statement(a, sql).get(8) as object) }, { v: 8 });
    forgetStatements(a);
    assert.notEqual(statement(a, sql), first);
  } finally {
    a.close();
    b.close();
  }
});
