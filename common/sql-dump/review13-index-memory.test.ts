// REVIEW-13 FINDING 6 (medium): an untrusted dump index can hold the agent's memory far past the
// issue's 128 MiB restore budget. parseDumpIndex accepts up to 64 MiB of JSON and 4,000,000
// ranges whatever the dump's size; JSON.parse builds every range as a JS array before any
// bound is checked, and the validated index keeps a second copy. A 62 MB index of 3.5 million
// one-byte header ranges for a 7 MB dump (which cannot have that many sections) is accepted
// and retains hundreds of MiB. (FAILS on the code under review.)
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseDumpIndex } from './dump-index-json.ts';
import { DUMP_INDEX_FORMAT, DUMP_INDEX_VERSION } from './dump-index.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

it('FINDING 6: a crafted index cannot make the agent hold more than 128 MiB', () => {
  const n = 3_500_000;
  const dumpBytes = 2 * n + 10;
  let text = `{"format":${JSON.stringify(DUMP_INDEX_FORMAT)},"version":${DUMP_INDEX_VERSION},"dumpBytes":${dumpBytes},"header":[`;
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`[${2 * i},${2 * i + 1}]`);
  text += `${parts.join(',')}],"databases":[]}`;
  parts.length = 0;
  const bytes = Buffer.from(text);
  text = '';
  gc();
  const before = process.memoryUsage().heapUsed;
  const r = parseDumpIndex(bytes, dumpBytes);
  gc();
  const retainedMiB = (process.memoryUsage().heapUsed - before) / 1048576;
  assert.ok(!r.ok || retainedMiB < 128, `an index of ${bytes.length} bytes and ${n} ranges for a ${dumpBytes}-byte dump was accepted and retains ${retainedMiB.toFixed(0)} MiB`);
});
