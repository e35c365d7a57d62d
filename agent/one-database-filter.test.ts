import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { OneDatabaseFilter, sectionDatabase } from './one-database-filter.ts';

/** The filter's output, or its error together with every byte it let through before it. */
async function run(text: string, database: string, chunkBytes: number): Promise<{ out: string; error?: unknown }> {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkBytes) chunks.push(bytes.subarray(i, i + chunkBytes));
  const out: Buffer[] = [];
  try {
    for await (const c of Readable.from(chunks).pipe(new OneDatabaseFilter(database))) out.push(c as Buffer);
  } catch (error) {
    return { out: Buffer.concat(out).toString(), error };
  }
  return { out: Buffer.concat(out).toString() };
}

async function filter(text: string, database: string, chunkBytes: number): Promise<string> {
  const r = await run(text, database, chunkBytes);
  if (r.error) throw r.error;
  return r.out;
}

const notIn = (databases: string[]) => (err: unknown) => isSidestashError(err, ErrorCodes.NOT_IN_SNAPSHOT) && JSON.stringify(err.details.databases) === JSON.stringify(databases);

const long = `INSERT INTO t VALUES ('${'x'.repeat(5000)}\nUSE \`shop\`;');`;
const DUMP = [
  '/*M!999999\\- enable the sandbox mode */ ',
  '/*!40101 SET NAMES utf8mb4 */;',
  '',
  '-- Current Database: `crm`',
  '/*!40000 DROP DATABASE IF EXISTS `crm`*/;',
  'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `crm` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;',
  'USE `crm`;',
  "INSERT INTO contacts VALUES (1,'crm');",
  '-- Current Database: `shop`',
  '/*!40000 DROP DATABASE IF EXISTS `shop`*/;',
  'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop`;',
  'USE `shop`;',
  "INSERT INTO orders VALUES (1,'shop');",
  long,
  'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `sh``op`;',
  'USE `sh``op`;',
  "INSERT INTO t VALUES ('other');",
  'USE `shop`;',
  "INSERT INTO orders VALUES (2,'shop again')",
].join('\n');

describe('OneDatabaseFilter', () => {
  it('finds the lines that start a database section', () => {
    assert.equal(sectionDatabase('USE `a``b`;\n'), 'a`b');
    assert.equal(sectionDatabase('-- Current Database: `shop`'), 'shop');
    assert.equal(sectionDatabase("INSERT INTO t VALUES ('USE `shop`;')"), undefined);
  });

  for (const chunkBytes of [1, 7, 1000, 1 << 20]) {
    it(`passes only the chosen database's section and the header (${chunkBytes}-byte chunks)`, async () => {
      const out = await filter(DUMP, 'shop', chunkBytes);
      assert.ok(out.startsWith('/*M!999999\\- enable the sandbox mode */ \n/*!40101 SET NAMES utf8mb4 */;\n'));
      assert.ok(!/crm|other|sh``op/.test(out), out.slice(0, 400));
      assert.ok(out.includes("INSERT INTO orders VALUES (1,'shop');\n") && out.endsWith("INSERT INTO orders VALUES (2,'shop again')"));
      // A long line goes through whole; a section line inside it starts nothing.
      assert.ok(out.includes(long));
      const crm = await filter(DUMP, 'crm', chunkBytes);
      assert.ok(crm.includes("INSERT INTO contacts VALUES (1,'crm');") && !crm.includes("'shop'") && !crm.includes(long));
    });
  }

  for (const chunkBytes of [1, 7, 1 << 20]) {
    it(`lets no byte through for a database the dump does not contain, and names those it does (${chunkBytes}-byte chunks)`, async () => {
      const r = await run(DUMP, 'nosuchdb', chunkBytes);
      assert.ok(notIn(['crm', 'shop', 'sh`op'])(r.error), String(r.error));
      assert.match((r.error as Error).message, /database "nosuchdb" is not in the snapshot; it contains "crm", "shop", "sh`op"/);
      assert.equal(r.out, '', 'not even the header went on');
    });
  }

  // mariadb-dump of one database without --databases writes no section line; its header comment names the database.
  const plain = (header: string, body = "INSERT INTO orders VALUES (1,'x');\n") => `-- MariaDB dump 10.19\n--\n${header}-- ------------------------------------------------------\n/*!40101 SET NAMES utf8mb4 */;\n${body}`;
  for (const [name, body] of [['small', undefined], ['larger than what is held back', `INSERT INTO t VALUES ('${'y'.repeat(300 * 1024)}');\n`]] as const) {
    it(`a dump without sections (${name}) goes through whole when its header names the database or none, and fails when it names another`, async () => {
      for (const chunkBytes of [7, 1 << 20]) {
        const shop = plain('-- Host: localhost    Database: shop\n', body);
        assert.equal(await filter(shop, 'shop', chunkBytes), shop);
        const unnamed = plain('', body);
        assert.equal(await filter(unnamed, 'anything', chunkBytes), unnamed);
        const r = await run(shop, 'crm', chunkBytes);
        assert.ok(notIn(['shop'])(r.error), String(r.error));
        assert.equal(r.out, '');
      }
    });
  }
});
