// REVIEW-13 FINDING 10 (medium): the granular selection holds statements waiting for their
// opener (dump-sections.ts MAX_PENDING = 1000) with their whole text, bounded by count but not by
// bytes. A dump whose section holds many large session statements before its CREATE TABLE
// (each up to max_allowed_packet, 16 MiB by default: 1000 of them are 16 GiB) makes the agent
// hold them all in memory during a granular restore (the header has a 16 MiB bound, this does
// not). Here 600 statements of 256 KiB: 150 MiB held before the first statement comes out,
// past the 128 MiB budget for the whole restore. (FAILS on the code under review.)
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { selectStatements } from './dump-selection.ts';
import { splitDump } from './dump-statements.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

it('FINDING 10: statements waiting for their section are bounded in bytes', async () => {
  const big = 'x'.repeat(256 * 1024);
  async function* source(): AsyncGenerator<Buffer> {
    yield Buffer.from('/*!40101 SET NAMES utf8mb4 */;\nCREATE DATABASE `shop`;\nUSE `shop`;\n');
    for (let i = 0; i < 600; i++) yield Buffer.from(`SET @v${i} = '${big}';\n`);
    yield Buffer.from('DROP TABLE IF EXISTS `orders`;\nCREATE TABLE `orders` (`id` int NOT NULL);\nINSERT INTO `orders` VALUES (1);\n');
  }
  // Node reports Buffers in arrayBuffers; Deno does not, so its resident size counts too.
  const used = (): number => Math.max(process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed, process.memoryUsage().rss);
  gc();
  const before = used();
  let heldMiB = -1;
  for await (const st of selectStatements(splitDump(source(), { collect: true }), { tables: [{ database: 'shop', table: 'orders' }] })) {
    if (heldMiB < 0) {
      gc();
      heldMiB = (used() - before) / 1048576;
    }
    void st;
  }
  assert.ok(heldMiB >= 0, 'the selection yields statements');
  assert.ok(heldMiB < 128, `the selection held ${heldMiB.toFixed(0)} MiB of statements waiting for their section`);
});
