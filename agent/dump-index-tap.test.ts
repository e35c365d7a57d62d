// The backup stores only a dump index that a restore would accept: one past the reader's bounds
// (dump-index-json.ts: ranges relative to the dump's size, at most 250,000) is skipped with its
// reason, and the snapshot is restored by streaming.
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { it } from 'node:test';
import { parseDumpIndex } from '../common/sql-dump/dump-index-json.ts';
import { DumpIndexTap } from './dump-index-tap.ts';

async function tapOf(dump: Buffer): Promise<DumpIndexTap> {
  const tap = new DumpIndexTap();
  await pipeline(Readable.from([dump]), tap, new Writable({ write: (_c, _e, cb) => cb() }));
  return tap;
}

it('stores the index of an ordinary dump, which reads back', async () => {
  const dump = Buffer.from('CREATE DATABASE `a`;\nUSE `a`;\nCREATE TABLE `t` (`id` int);\nINSERT INTO `t` VALUES (1),(2);\n');
  const skipped: string[] = [];
  const files = (await tapOf(dump)).extraFiles('/dumpfile.sql', (r) => skipped.push(r));
  assert.deepEqual(skipped, []);
  assert.equal(files.length, 1);
  assert.equal(parseDumpIndex(files[0]!.content, dump.length).ok, true);
});

it('skips an index larger than a restore accepts (250,001 tables: over 16 MiB and 250,000 ranges)', async () => {
  const dump = Buffer.from(`CREATE DATABASE \`a\`;\nUSE \`a\`;\n${Array.from({ length: 250_001 }, (_, i) => `CREATE TABLE \`t${i}\` (\`id\` int);\n`).join('')}`);
  const skipped: string[] = [];
  const files = (await tapOf(dump)).extraFiles('/dumpfile.sql', (r) => skipped.push(r));
  assert.deepEqual(files, []);
  assert.match(skipped.join("\n"), /more than 2\d{5} (?:ranges|tables and objects|lists)|the index file is larger than 16777216 bytes/);
});
