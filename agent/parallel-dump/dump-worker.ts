// The parallel dumper in a worker thread (started by worker-dump.ts): reading the rows off the
// wire and rendering them (~11 CPU-s a GiB, measured) run on a second core, beside the agent's
// repository writer on the main thread, as mariadb-dump ran in its own process. The dump goes to
// the main thread as the dumper's own Buffers, transferred, not copied; at most WINDOW_BYTES are
// in flight until the main thread says it has taken them (credit), so a slow writer stalls the
// dumper here as it stalls the readers inside it.
import { parentPort, workerData } from 'node:worker_threads';
import { isSidestashError } from '../../common/errors.ts';
import type { DatabaseConnection } from '../../common/protocol.ts';
import { dumpConnectionFactory } from './dump-connection.ts';
import { parallelDump } from './parallel-dumper.ts';
import type { ParallelDumpOptions } from './parallel-dumper.ts';

export type WorkerDumpOptions = Omit<ParallelDumpOptions, 'connect' | 'signal'> & { db: DatabaseConnection };

export type ToMain =
  | { type: 'data'; chunk: Uint8Array }
  | { type: 'end'; result: unknown }
  | { type: 'error'; error: { code?: string; message: string; retryable?: boolean; details?: Record<string, unknown> } };
export type ToWorker = { type: 'credit'; bytes: number } | { type: 'abort' };

/** Bytes the worker may have sent that the main thread has not taken yet. */
export const WINDOW_BYTES = 2 * 1024 * 1024;

const port = parentPort!;
const { db, ...options } = workerData as WorkerDumpOptions;
const controller = new AbortController();
let inFlight = 0;
let wake: (() => void) | undefined;
port.on('message', (m: ToWorker) => {
  if (m.type === 'abort') controller.abort(new Error('the backup stopped the dump'));
  if (m.type === 'credit') inFlight -= m.bytes;
  const w = wake;
  wake = undefined;
  w?.();
});

try {
  const dump = parallelDump({ ...options, connect: dumpConnectionFactory(db), signal: controller.signal });
  for await (const chunk of dump.stream as AsyncIterable<Buffer>) {
    while (inFlight >= WINDOW_BYTES && !controller.signal.aborted) await new Promise<void>((resolve) => (wake = resolve));
    // The dumper's statements own their memory (transferred); its short texts may share Node's pool (copied).
    const own = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
    const data = own ? new Uint8Array(chunk.buffer, 0, chunk.byteLength) : new Uint8Array(chunk);
    inFlight += data.byteLength;
    port.postMessage({ type: 'data', chunk: data } satisfies ToMain, [data.buffer as ArrayBuffer]);
  }
  port.postMessage({ type: 'end', result: await dump.result } satisfies ToMain);
} catch (err) {
  const error = isSidestashError(err) ? { code: err.code, message: err.message, retryable: err.retryable, details: err.details } : { message: err instanceof Error ? err.message : String(err) };
  port.postMessage({ type: 'error', error } satisfies ToMain);
} finally {
  // Nothing keeps the worker alive after its last message (Deno's port has no close(); the main thread terminates the worker then).
  if (typeof (port as { close?: unknown }).close === 'function') port.close();
}
