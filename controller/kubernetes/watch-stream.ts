// A watch's body: one JSON object per line ({type, object}). Lines arrive split across chunks
// and several per chunk. An event that is not an allowed type with an object ends the watch
// (the server is not speaking the watch protocol; the caller lists again).
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import { kubeNetworkError } from './kube-errors.ts';
import type { KubeObject } from './resource-type.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
}

const TYPES: ReadonlySet<string> = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);
/** One event larger than this is refused (an object is at most ~1.5 MiB in etcd). */
export const MAX_WATCH_LINE_BYTES = 16 * 1024 * 1024;

export function parseWatchLine<T extends KubeObject>(line: string, what: string): WatchEvent<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new SidestashError(ErrorCodes.KUBE_UNAVAILABLE, `${what}: a line that is not JSON`, { retryable: true });
  }
  const e = parsed as { type?: unknown; object?: unknown };
  if (typeof e !== 'object' || e === null || typeof e.type !== 'string' || !TYPES.has(e.type) || typeof e.object !== 'object' || e.object === null) {
    throw new SidestashError(ErrorCodes.KUBE_UNAVAILABLE, `${what}: not a watch event`, { retryable: true });
  }
  const object = e.object as T;
  if (e.type !== 'ERROR' && (typeof object.metadata !== 'object' || object.metadata === null)) {
    throw new SidestashError(ErrorCodes.KUBE_UNAVAILABLE, `${what}: a ${e.type} event without metadata`, { retryable: true });
  }
  return { type: e.type as WatchEventType, object };
}

/** The events of a watch body, in order; a dropped connection is KUBE_UNAVAILABLE (retryable). */
export async function* watchEvents<T extends KubeObject>(body: AsyncIterable<Uint8Array | string>, what: string): AsyncGenerator<WatchEvent<T>> {
  const decoder = new TextDecoder();
  let pending = '';
  try {
    for await (const chunk of body) {
      pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line) yield parseWatchLine<T>(line, what);
      }
      if (pending.length > MAX_WATCH_LINE_BYTES) throw new SidestashError(ErrorCodes.KUBE_UNAVAILABLE, `${what}: an event over ${MAX_WATCH_LINE_BYTES} bytes`, { retryable: true });
    }
  } catch (err) {
    if (err instanceof SidestashError) throw err;
    throw kubeNetworkError(what, err);
  }
  const rest = (pending + decoder.decode()).trim();
  if (rest) yield parseWatchLine<T>(rest, what);
}
