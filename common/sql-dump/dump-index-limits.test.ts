// An untrusted dump index cannot hold the agent's memory: the file is bounded before it is
// read, its lists are counted before JSON.parse builds them, and its ranges and tables are
// bounded relative to the dump's size (a range covers at least one statement).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MAX_INDEX_FILE_BYTES, encodeDumpIndex, maxIndexRanges, parseDumpIndex } from './dump-index-json.ts';
import { DUMP_INDEX_FORMAT, DUMP_INDEX_VERSION } from './dump-index.ts';
import type { DumpIndex } from './dump-index.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** An index whose header has `n` one-byte ranges, for a dump of `dumpBytes`. */
function headerRanges(n: number, dumpBytes: number): DumpIndex {
  return { format: DUMP_INDEX_FORMAT, version: DUMP_INDEX_VERSION, dumpBytes, header: Array.from({ length: n }, (_, i) => [2 * i, 2 * i + 1] as [number, number]), databases: [] };
}

describe('dump index limits', () => {
  it('a crafted index of 3.5 million ranges for a 7 MB dump is refused without holding 128 MiB', () => {
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
    assert.equal(r.ok, false);
    assert.ok(retainedMiB < 128, `retains ${retainedMiB.toFixed(0)} MiB`);
  });

  it('refuses a file over the limit before parsing it', () => {
    const r = parseDumpIndex(Buffer.alloc(MAX_INDEX_FILE_BYTES + 1, 0x20), 2 ** 30);
    assert.deepEqual(r, { ok: false, problem: `the index file is larger than ${MAX_INDEX_FILE_BYTES} bytes` });
  });

  it('refuses more lists than the dump can have ranges, before JSON.parse', () => {
    const dumpBytes = 64 * 1024;
    const limit = maxIndexRanges(dumpBytes);
    assert.equal(limit, 4096);
    // Not even JSON: refused by counting alone.
    const r = parseDumpIndex(Buffer.from('['.repeat(4 * limit + 65)), dumpBytes);
    assert.equal(r.ok, false);
    assert.match((r as { problem: string }).problem, /^more than 16448 lists for a dump of 65536 bytes$/);
  });

  it('accepts as many ranges as the dump allows, and refuses one more', () => {
    const dumpBytes = 64 * 1024;
    const limit = maxIndexRanges(dumpBytes);
    assert.equal(parseDumpIndex(encodeDumpIndex(headerRanges(limit, dumpBytes)), dumpBytes).ok, true);
    const r = parseDumpIndex(encodeDumpIndex(headerRanges(limit + 1, dumpBytes)), dumpBytes);
    assert.deepEqual(r, { ok: false, problem: `more than ${limit} ranges for a dump of ${dumpBytes} bytes` });
  });

  it('bounds ranges absolutely, whatever the dump size', () => {
    assert.equal(maxIndexRanges(2 ** 40), 250_000);
    assert.equal(maxIndexRanges(10), 64);
  });
});
