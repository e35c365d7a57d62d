// The parallel dumper run in a worker thread (dump-worker.ts), seen from the main thread as
// parallelDump() is: one Readable of the dump and its result. The Readable takes the worker's
// Buffers as they come and gives credit back as its consumer reads them, so what waits between
// the threads stays within the worker's window. The backup's AbortSignal, a consumer that stops
// reading, or a worker that dies end the dump: every failure is a SidestashError (the dumper's
// own code, or DUMP_FAILED).
import { extname } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ErrorCodes, SidestashError, abortError } from '../../common/errors.ts';
import type { ErrorCode } from '../../common/errors.ts';
import type { ToMain, ToWorker, WorkerDumpOptions } from './dump-worker.ts';
import type { ParallelDump, ParallelDumpResult } from './parallel-dumper.ts';

/** The worker's module beside this one: dump-worker.ts from the sources, dump-worker.js from the build. */
const WORKER_URL = new URL(`./dump-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

export function parallelDumpInWorker(options: WorkerDumpOptions, signal?: AbortSignal): ParallelDump {
  let settle!: { resolve: (r: ParallelDumpResult) => void; reject: (e: unknown) => void };
  const result = new Promise<ParallelDumpResult>((resolve, reject) => (settle = { resolve, reject }));
  result.catch(() => undefined);
  // A young generation of a few MiB, as the agent's own (--max-semi-space-size=1 in its image).
  const worker = new Worker(WORKER_URL, { workerData: options, resourceLimits: { maxYoungGenerationSizeMb: 2 } });
  const send = (m: ToWorker): void => {
    try {
      worker.postMessage(m);
    } catch {
      // The worker has ended.
    }
  };
  let owed = 0;
  let ended = false;
  const stream = new Readable({
    highWaterMark: 1024 * 1024,
    read() {
      if (owed > 0) send({ type: 'credit', bytes: owed });
      owed = 0;
    },
    destroy(err, cb) {
      fail(err ?? new SidestashError(ErrorCodes.DUMP_FAILED, 'the dump was stopped before its end', { retryable: true }));
      cb(err);
    },
  });
  /** Ends the dump: the worker ends its connections and exits (one that does not within 5 s is stopped). */
  const fail = (err: Error, workerDone = false): void => {
    if (ended) return;
    ended = true;
    signal?.removeEventListener('abort', onAbort);
    if (workerDone) void worker.terminate();
    else {
      send({ type: 'abort' });
      const t = setTimeout(() => void worker.terminate(), 5000);
      worker.once('exit', () => clearTimeout(t));
    }
    settle.reject(err);
    stream.destroy(err);
  };
  const onAbort = (): void => fail(abortError(signal));
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  worker.on('message', (m: ToMain) => {
    if (ended) return;
    if (m.type === 'data') {
      const chunk = Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength);
      if (stream.push(chunk)) send({ type: 'credit', bytes: chunk.length });
      else owed += chunk.length;
    } else if (m.type === 'end') {
      ended = true;
      signal?.removeEventListener('abort', onAbort);
      settle.resolve(m.result as ParallelDumpResult);
      stream.push(null);
      // Its connections are closed: the worker has nothing left to do.
      void worker.terminate();
    } else {
      const e = m.error;
      fail(new SidestashError((e.code as ErrorCode | undefined) ?? ErrorCodes.DUMP_FAILED, e.message, { retryable: e.retryable ?? true, details: e.details ?? {} }), true);
    }
  });
  worker.on('error', (err: Error) => fail(new SidestashError(ErrorCodes.DUMP_FAILED, `the dump's worker failed: ${err.message}`, { retryable: true, cause: err })));
  worker.on('exit', (code) => {
    signal?.removeEventListener('abort', onAbort);
    fail(new SidestashError(ErrorCodes.DUMP_FAILED, `the dump's worker exited (code ${code}) before the dump's end`, { retryable: true }));
  });
  return { stream, result };
}
