// An upload body sent in slices, each once the pacer allows it (the upload bandwidth limit,
// rate-limit.ts), so that the link sees a steady rate rather than a pack-sized burst.
import { Readable } from 'node:stream';
import type { BodyPacer } from './backend.ts';

/** The largest slice: 64 KiB, cheap at high limits. */
export const PACE_SLICE_BYTES = 64 * 1024;
/** The smallest: 512 B (half a second at the lowest limit, 1 KiB/s). */
export const MIN_PACE_SLICE_BYTES = 512;

/**
 * The slice for a limit: an eighth of a second's worth, from 512 B to 64 KiB. A body waits for
 * its slice behind every other upload of the limit, so a slice of a second or more would leave
 * a connection silent for longer than servers allow (S3 closes one after ~20 s) at low limits,
 * and a minute would carry a whole slice over the limit.
 */
export function paceSliceBytes(bytesPerSecond: number): number {
  return Math.max(MIN_PACE_SLICE_BYTES, Math.min(PACE_SLICE_BYTES, Math.floor(bytesPerSecond / 8)));
}

/** The body's slices, each yielded after pace() allowed it. */
export async function* pacedSlices(data: Uint8Array, pace: BodyPacer, signal?: AbortSignal, sliceBytes = pace.sliceBytes ?? PACE_SLICE_BYTES): AsyncGenerator<Uint8Array> {
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
