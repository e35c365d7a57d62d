// Samples in Prometheus's text exposition format, rendered by prom-client (one Gauge per
// metric name, its label names the union of its samples').
import { Gauge, Registry } from 'prom-client';

export interface ExpositionSample {
  name: string;
  help: string;
  labels: Record<string, string>;
  value: number;
}

export async function renderExposition(samples: readonly ExpositionSample[]): Promise<string> {
  const registry = new Registry();
  const byName = new Map<string, ExpositionSample[]>();
  for (const s of samples) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
  for (const [name, group] of byName) {
    const labelNames = [...new Set(group.flatMap((s) => Object.keys(s.labels)))].sort();
    const gauge = new Gauge({ name, help: group[0]!.help, labelNames, registers: [registry] });
    for (const s of group) gauge.set(s.labels, s.value);
  }
  return registry.metrics();
}
