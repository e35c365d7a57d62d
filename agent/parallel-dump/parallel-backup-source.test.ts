// The parallel dump's verifier keeps its own copy of the dump's last bytes: the pieces it passed
// on go back to the dumper for reuse once the writer has copied them (piece-pool.ts), and are
// overwritten then; the completed mark must still be seen, and a mark written later into a
// reused piece must not be.
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { ParallelDumpVerifier } from './parallel-backup-source.ts';
import type { ParallelDumpResult } from './parallel-dumper.ts';

const result = Promise.resolve({ snapshot: { position: undefined } } as unknown as ParallelDumpResult);

/** Passes the dump through the verifier into a writer that overwrites each piece once it has read it, as reuse does. */
async function verify(pieces: Buffer[], scribble: Buffer): Promise<void> {
  await pipeline(
    Readable.from(pieces),
    new ParallelDumpVerifier(result),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (let i = 0; i < chunk.length; i++) chunk[i] = scribble[i % scribble.length]!;
        cb();
      },
    }),
  );
}

it('sees the completed mark in pieces that are reused after they passed', async () => {
  const tail = Buffer.from('INSERT INTO t VALUES (1);\n-- Dump completed on 2026-01-02  3:04:05\n');
  await verify([Buffer.alloc(4096, 0x41), Buffer.concat([Buffer.alloc(1000, 0x42), tail])], Buffer.from('x'));
  await verify([Buffer.alloc(4096, 0x41), tail.subarray(0, 30), tail.subarray(30)], Buffer.from('y'));
});

it('fails a dump without the mark even when a reused piece holds one afterwards', async () => {
  await assert.rejects(verify([Buffer.alloc(4096, 0x41), Buffer.alloc(1000, 0x42)], Buffer.from('\n-- Dump completed on 2026-01-02  3:04:05\n')), (err: unknown) => isSidestashError(err, ErrorCodes.DUMP_FAILED));
});
