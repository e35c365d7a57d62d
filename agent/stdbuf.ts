// mariadb-dump writes its output through stdio in 4 KiB pieces, so a reader of its pipe wakes
// up for every 4 KiB (~100k times for a 400 MiB dump), and that per-read cost, in the kernel
// and in the stream stack, is a large part of a backup's CPU on a small node. coreutils'
// `stdbuf -o SIZE` gives the program a larger stdout buffer (by LD_PRELOAD, so only for a
// dynamically linked glibc program, which Debian's and the official images' mariadb-dump is):
// measured on a 390 MiB dump, 66k pipe reads of 6 KiB on average become ~13k of ~30 KiB and
// the backup uses ~0.7 CPU-s less. 32 KiB, not more: two writes fit into the 64 KiB pipe, so
// mariadb-dump goes on producing while the agent reads (1 MiB writes blocked it and cost wall
// time).
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** stdout buffer mariadb-dump gets through stdbuf. */
export const DUMP_STDOUT_BUFFER = '32768';

/**
 * Resolves SIDESTASH_STDBUF: "auto" (default) finds `stdbuf` on PATH and uses it when there,
 * "off" never uses it, and a path uses that program. Returns the path, or undefined.
 */
export function resolveStdbuf(setting: string, pathEnv: string | undefined): string | undefined {
  if (setting === 'off') return undefined;
  if (setting !== 'auto') return setting;
  for (const dir of (pathEnv ?? '/usr/bin:/bin').split(delimiter)) {
    if (!isAbsolute(dir)) continue;
    const candidate = join(dir, 'stdbuf');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The program and arguments that run `program args` with a large stdout buffer when possible. */
export function withStdoutBuffer(stdbufPath: string | undefined, program: string, args: readonly string[]): [string, string[]] {
  return stdbufPath ? [stdbufPath, ['-o', DUMP_STDOUT_BUFFER, program, ...args]] : [program, [...args]];
}
