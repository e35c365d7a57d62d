// Every metric name sidestash produces: the Stash metrics and live progress the controller
// pushes (built from sample sessions) and the controller's /metrics registry.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetrics } from '../../controller/metrics.ts';
import { progressSamples } from '../../controller/pushgateway/progress-metrics.ts';
import { stashMetrics } from '../../controller/pushgateway/stash-metrics.ts';
import type { SessionFacts } from '../../controller/pushgateway/stash-metrics.ts';
import { Store } from '../../controller/store/store.ts';

export async function metricNamesProduced(): Promise<Set<string>> {
  const facts: SessionFacts = {
    kind: 'BackupSession', namespace: 'n', invokerName: 'c', repository: { name: 'r', namespace: 'n', backend: 's3', bucket: 'b', prefix: 'p' },
    target: { name: 'db' }, phase: 'Succeeded', sessionSeconds: 1, finishedAtSeconds: 1, integrityOk: true, repositoryStats: { sizeBytes: 1, snapshotCount: 1 },
  };
  const names = new Set<string>();
  for (const f of [facts, { ...facts, kind: 'RestoreSession' as const }]) for (const s of stashMetrics(f)) names.add(s.name);
  const inv = { kind: 'BackupSession' as const, namespace: 'n', invokerName: 'c', targetName: 'db', repositoryName: 'r' };
  for (const s of progressSamples(inv, 's', { bytesDumped: 1, bytesStored: 1, rateBytesPerSecond: 1, etaSeconds: 1, updatedAt: '' })) names.add(s.name);
  const dir = await mkdtemp(join(tmpdir(), 'sidestash-names-'));
  const store = new Store(join(dir, 'c.db'));
  try {
    for (const m of await createMetrics(store, 60_000).registry.getMetricsAsJSON()) names.add(m.name);
  } finally {
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
  // The Pushgateway's own, which dashboards use to tell fresh groups from stale ones.
  names.add('push_time_seconds');
  return names;
}
