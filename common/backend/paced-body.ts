// An upload body sent in slices, each once the pacer allows it (the upload bandwidth limit,
// rate-limit.ts), so that the link sees a steady rate rather than a pack-sized burst.
import { Readable } from 'node:stream';
import type { BodyPacer } from './backend.ts';

/** 64 KiB: a few hundred milliseconds of the lowest useful limits, and cheap at high ones. */
export const PACE_SLICE_BYTES = 64 * 1024;

/** The body's slices, each yielded after pace() allowed it. */
export async function* pacedSlices(data: Uint8Array, pace: BodyPacer, signal?: AbortSignal, sliceBytes = PACE_SLICE_BYTES): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.byteLength; at += sliceBytes) {
    const slice = data.subarray(at, Math.min(data.byteLength, at + sliceBytes));
    await pace(slice.byteLength, signal);
    yield slice;
  }
}

/** The same, as a stream (for HTTP clients that take a Readable body). */
export function pacedReadable(data: Uint8Array, pace: BodyPacer, signal?: AbortSignal): Readable {
  return Readable.from(pacedSlices(data, pace, signal), { objectMode: false });
}
