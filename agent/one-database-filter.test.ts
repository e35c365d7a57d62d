import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { OneDatabaseFilter, sectionDatabase } from './one-database-filter.ts';

async function filter(text: string, database: string, chunkBytes: number): Promise<string> {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkBytes) chunks.push(bytes.subarray(i, i + chunkBytes));
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks).pipe(new OneDatabaseFilter(database))) out.push(c as Buffer);
  return Buffer.concat(out).toString();
}

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
});
