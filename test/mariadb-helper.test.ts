import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { it } from 'node:test';
import { startMariaDB } from './helpers/mariadb.ts';

it('starts a throwaway MariaDB in seconds and removes it afterwards', async () => {
  const started = Date.now();
  const db = await startMariaDB();
  try {
    assert.ok(Date.now() - started < 30_000);
    await db.sql('CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY); INSERT INTO shop.t VALUES (1),(2);');
    assert.equal((await db.sql('SELECT COUNT(*) FROM t', 'shop')).trim(), '2');
  } finally {
    await db.stop();
  }
  assert.equal(existsSync(db.dir), false);
});
