// `sidestash repo snapshots|stats|ls|key|version`, as restic 0.14 has them (restic-text.ts
// prints them).
import { readFile } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import { addKey, listKeys, removeKey } from '../common/repository/keys.ts';
import type { Repository } from '../common/repository/repository.ts';
import { findSnapshot, listSnapshots, loadTree } from '../common/repository/snapshot.ts';
import type { Snapshot } from '../common/repository/snapshot.ts';
import { PROGRAM_VERSION } from '../common/repository/snapshot-writer.ts';
import { rawDataStats, restoreSizeStats } from '../common/repository/stats.ts';
import { runtimeName } from '../common/runtime.ts';
import { keysJson, keysTable, lsHeader, lsJsonNode, lsJsonSnapshot, lsLine, snapshotsTable, statsText } from './restic-text.ts';
import type { ListedNode } from './restic-text.ts';

export interface InspectFlags {
  json: boolean;
  long: boolean;
  mode?: string | undefined;
  newPasswordFile?: string | undefined;
}

type Write = (s: string) => void;

/** restic's `version`: no repository needed. */
export function versionText(): string {
  return `${PROGRAM_VERSION} compiled with ${runtimeName()} on ${platform()}/${arch()} (restic repository format versions 1 and 2)`;
}

export async function snapshotsCommand(repo: Repository, flags: InspectFlags, write: Write, signal: AbortSignal): Promise<void> {
  const snaps = await listSnapshots(repo, { signal });
  write(flags.json ? JSON.stringify(snaps, null, 2) : snapshotsTable(snaps));
}

export async function statsCommand(repo: Repository, refs: string[], flags: InspectFlags, write: Write, signal: AbortSignal): Promise<void> {
  const mode = flags.mode ?? 'restore-size';
  if (mode !== 'restore-size' && mode !== 'raw-data') throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `--mode ${JSON.stringify(mode)}: use restore-size or raw-data`);
  const snaps: Snapshot[] = refs.length === 0 ? await listSnapshots(repo, { signal }) : await Promise.all(refs.map((r) => findSnapshot(repo, r, {}, { signal })));
  const stats = mode === 'raw-data' ? await rawDataStats(repo, snaps, { signal }) : await restoreSizeStats(repo, snaps, { signal });
  write(flags.json ? JSON.stringify(stats) : statsText(mode, stats));
}

async function* walk(repo: Repository, treeId: string, prefix: string, signal: AbortSignal): AsyncGenerator<ListedNode> {
  const nodes = [...(await loadTree(repo, treeId, { signal })).nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const node of nodes) {
    const path = `${prefix}/${node.name}`;
    yield { path, node };
    if (node.type === 'dir' && node.subtree) yield* walk(repo, node.subtree, path, signal);
  }
}

export async function lsCommand(repo: Repository, ref: string | undefined, flags: InspectFlags, write: Write, signal: AbortSignal): Promise<void> {
  if (!ref) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'usage: sidestash repo ls SNAPSHOT|latest [-l] [--json]');
  const s = await findSnapshot(repo, ref, {}, { signal });
  write(flags.json ? JSON.stringify(lsJsonSnapshot(s)) : lsHeader(s));
  for await (const n of walk(repo, s.tree, '', signal)) write(flags.json ? JSON.stringify(lsJsonNode(n)) : lsLine(n, flags.long));
}

async function newPassword(file: string | undefined, env: Record<string, string | undefined>): Promise<string> {
  if (file) {
    const text = await readFile(file, 'utf8').catch((err: Error) => {
      throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `--new-password-file: cannot read ${file}: ${err.message}`);
    });
    // restic takes the first line of the file.
    return text.split(/\r?\n/)[0]!;
  }
  if (env.RESTIC_NEW_PASSWORD) return env.RESTIC_NEW_PASSWORD;
  throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'key add needs --new-password-file FILE (or RESTIC_NEW_PASSWORD)');
}

export async function keyCommand(repo: Repository, args: string[], flags: InspectFlags, write: Write, signal: AbortSignal, env: Record<string, string | undefined> = process.env): Promise<void> {
  const [sub, ref] = args;
  switch (sub) {
    case 'list': {
      const keys = await listKeys(repo, { signal });
      write(flags.json ? JSON.stringify(keysJson(keys)) : keysTable(keys));
      return;
    }
    case 'add': {
      const id = await addKey(repo, await newPassword(flags.newPasswordFile, env), { signal });
      write(`saved new key with ID ${id}`);
      return;
    }
    case 'remove':
      if (!ref) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'usage: sidestash repo key remove ID');
      write(`removed key ${await removeKey(repo, ref, { signal })}`);
      return;
    default:
      throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'usage: sidestash repo key list|add|remove [ID] [--new-password-file FILE]');
  }
}
