// The granular selection holds statements waiting for their section (session statements before
// a CREATE TABLE) bounded in bytes as well as in number: a dump of many large statements cannot
// make the agent hold them all (each can be max_allowed_packet, 16 MiB by default, long).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DumpSectioner, MAX_PENDING_BYTES } from './dump-sections.ts';
import type { ClassifiedStatement } from './dump-statements.ts';
import { selectStatements } from './dump-selection.ts';
import { splitDump } from './dump-statements.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

it('statements waiting for their section are bounded in bytes (600 x 256 KiB hold less than 128 MiB)', async () => {
  assert.equal(MAX_PENDING_BYTES, 16 * 1024 * 1024);
  const big = 'x'.repeat(256 * 1024);
  async function* source(): AsyncGenerator<Buffer> {
    yield Buffer.from('/*!40101 SET NAMES utf8mb4 */;\nCREATE DATABASE `shop`;\nUSE `shop`;\n');
    for (let i = 0; i < 600; i++) yield Buffer.from(`SET @v${i} = '${big}';\n`);
    yield Buffer.from('DROP TABLE IF EXISTS `orders`;\nCREATE TABLE `orders` (`id` int NOT NULL);\nINSERT INTO `orders` VALUES (1);\n');
  }
  // Node reports Buffers in arrayBuffers (Deno does not, and its resident size keeps what the
  // source allocated and freed: on Deno the bound is checked by the next test, on the sectioner).
  const used = (): number => process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed;
  gc();
  const before = used();
  let heldMiB = -1;
  const texts: string[] = [];
  for await (const st of selectStatements(splitDump(source(), { collect: true }), { tables: [{ database: 'shop', table: 'orders' }] })) {
    if (heldMiB < 0) {
      gc();
      heldMiB = (used() - before) / 1048576;
    }
    texts.push(st.text!.toString('latin1').slice(0, 40));
  }
  assert.ok(heldMiB >= 0, 'the selection yields statements');
  assert.ok(heldMiB < 128, `the selection held ${heldMiB.toFixed(0)} MiB of statements waiting for their section`);
  // The SETs past the bound went with the database's statements (not restored); the table's own came.
  assert.ok(texts.some((t) => t.startsWith('CREATE TABLE `orders`')));
  assert.ok(texts.filter((t) => t.startsWith('SET @v')).length < 600);
});

it('the sectioner lets statements wait for their opener up to MAX_PENDING_BYTES, then places them with what came before', () => {
  const sections = new DumpSectioner();
  const st = (offset: number, bytes: number, sql: string, what: ClassifiedStatement['what']): ClassifiedStatement => {
    const text = Buffer.from(sql);
    return { offset, contentOffset: offset, end: offset + bytes, text, head: text, topLevelGroups: 0, delimiter: ';', what };
  };
  assert.deepEqual(sections.place(st(0, 20, 'USE `shop`', { kind: 'use', database: 'shop' })).map((p) => p.owner), [{ part: 'database', database: 'shop' }]);
  const size = 256 * 1024;
  let at = 20;
  let waiting = 0;
  for (let i = 0; i < 600; i++) {
    const placed = sections.place(st(at, size, `SET @v${i} = 'x'`, { kind: 'session' }));
    at += size;
    waiting = placed.length === 0 ? waiting + 1 : 0;
    assert.ok(waiting * size < MAX_PENDING_BYTES, `${waiting} statements of ${size} bytes wait`);
    for (const p of placed) assert.deepEqual(p.owner, { part: 'database', database: 'shop' });
  }
});
