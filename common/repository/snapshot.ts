// Snapshots (snapshots/<id>) and trees (tree blobs), in restic's JSON shapes.
import type { CallOptions } from '../backend/backend.ts';
import { ErrorCodes, SidestashError } from '../errors.ts';
import { mapConcurrent } from './concurrency.ts';
import { resolvePrefix } from './ids.ts';
import type { Id } from './ids.ts';
import type { Repository } from './repository.ts';
import { parseTime } from './time.ts';
import { encodeCanonicalTree } from './tree-json.ts';
import type { SnapshotSummary } from './snapshot-summary.ts';

export interface SnapshotJson {
  time: string;
  parent?: Id;
  tree: Id;
  paths: string[];
  hostname?: string;
  username?: string;
  uid?: number;
  gid?: number;
  tags?: string[] | null;
  original?: Id;
  program_version?: string;
  /** restic >= 0.17: statistics of the backup (snapshot-summary.ts). */
  summary?: SnapshotSummary;
}

export interface Snapshot extends SnapshotJson {
  id: Id;
}

export interface TreeNode {
  name: string;
  type: string;
  mode?: number;
  mtime?: string;
  atime?: string;
  ctime?: string;
  uid: number;
  gid: number;
  user?: string;
  size?: number;
  content: Id[] | null;
  subtree?: Id;
}

export interface TreeJson {
  nodes: TreeNode[];
}

/** restic's canonical tree JSON followed by a newline (tree-json.ts): a tree's id is its hash. */
export function encodeTree(tree: TreeJson): Buffer {
  return encodeCanonicalTree(tree.nodes);
}

export function decodeTree(bytes: Uint8Array, id: Id): TreeJson {
  let json: TreeJson;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8')) as TreeJson;
  } catch (err) {
    throw new SidestashError(ErrorCodes.CORRUPT_FILE, `tree ${id}: invalid JSON`, { cause: err });
  }
  if (!json || !Array.isArray(json.nodes)) throw new SidestashError(ErrorCodes.CORRUPT_FILE, `tree ${id}: missing nodes`);
  return json;
}

export async function loadTree(repo: Repository, id: Id, options: CallOptions = {}): Promise<TreeJson> {
  return decodeTree(await repo.loadBlob('tree', id, options), id);
}

export async function loadSnapshot(repo: Repository, id: Id, options: CallOptions = {}): Promise<Snapshot> {
  const json = (await repo.loadJson('snapshots', id, options)) as SnapshotJson;
  if (typeof json?.tree !== 'string' || typeof json.time !== 'string' || !parseTime(json.time)) {
    throw new SidestashError(ErrorCodes.CORRUPT_FILE, `snapshot ${id}: missing tree or time`);
  }
  return { ...json, id };
}

/** All snapshots, oldest first (restic's order). */
export async function listSnapshots(repo: Repository, options: CallOptions = {}): Promise<Snapshot[]> {
  const ids = await repo.listIds('snapshots', options);
  const snaps = await mapConcurrent(ids, 8, (id) => loadSnapshot(repo, id, options));
  return snaps.sort((a, b) => compareTime(a.time, b.time));
}

export function compareTime(a: string, b: string): number {
  const ta = parseTime(a)!;
  const tb = parseTime(b)!;
  return ta.epochMs - tb.epochMs || ta.subMsNanos - tb.subMsNanos;
}

export interface SnapshotFilter {
  hostname?: string;
  tags?: string[];
  path?: string;
}

function matches(s: Snapshot, f: SnapshotFilter): boolean {
  if (f.hostname !== undefined && s.hostname !== f.hostname) return false;
  if (f.path !== undefined && !s.paths.includes(f.path)) return false;
  for (const t of f.tags ?? []) if (!(s.tags ?? []).includes(t)) return false;
  return true;
}

/** Finds a snapshot by id prefix or "latest" (newest matching the filter). */
export async function findSnapshot(repo: Repository, ref: string, filter: SnapshotFilter = {}, options: CallOptions = {}): Promise<Snapshot> {
  if (ref === 'latest') {
    const all = (await listSnapshots(repo, options)).filter((s) => matches(s, filter));
    const latest = all.at(-1);
    if (!latest) throw new SidestashError(ErrorCodes.SNAPSHOT_NOT_FOUND, 'no snapshot found');
    return latest;
  }
  const id = resolvePrefix(ref, await repo.listIds('snapshots', options), 'snapshot');
  return loadSnapshot(repo, id, options);
}
