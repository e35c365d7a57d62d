// Writes charts/sidestash/crds/<plural>.sidestash.io.yaml from the HTTP API's schemas
// (scripts/crds/crd-manifests.ts). With --check: writes nothing, exits 1 when a file differs.
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crdFiles } from './crds/crd-manifests.ts';

export const CRD_DIR = join(import.meta.dirname, '..', 'charts', 'sidestash', 'crds');

/** The files under CRD_DIR that differ from what the generator makes (missing, changed or extra). */
export async function staleCrdFiles(dir = CRD_DIR): Promise<string[]> {
  const want = crdFiles();
  const have = await readdir(dir).catch(() => [] as string[]);
  const stale: string[] = have.filter((f) => !want.has(f));
  for (const [name, text] of want) {
    if ((await readFile(join(dir, name), 'utf8').catch(() => undefined)) !== text) stale.push(name);
  }
  return stale.sort();
}

if (import.meta.main ?? process.argv[1] === import.meta.filename) {
  const check = process.argv.includes('--check');
  const stale = await staleCrdFiles();
  if (check) {
    if (stale.length > 0) {
      process.stderr.write(`CRDs out of date (run node scripts/generate-crds.ts): ${stale.join(', ')}\n`);
      process.exit(1);
    }
  } else {
    const want = crdFiles();
    for (const f of stale) {
      const text = want.get(f);
      if (text === undefined) await rm(join(CRD_DIR, f));
      else await writeFile(join(CRD_DIR, f), text);
    }
    process.stderr.write(stale.length > 0 ? `wrote ${stale.join(', ')}\n` : 'CRDs up to date\n');
  }
}
