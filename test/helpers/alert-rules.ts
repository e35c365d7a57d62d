// The shipped alert rules (one file, also the chart's PrometheusRule spec), read for tests.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';

export const ALERT_RULES_FILE = join(import.meta.dirname, '..', '..', 'charts', 'sidestash', 'files', 'sidestash-alerts.rules.yaml');

export interface AlertRule {
  group: string;
  alert: string;
  expr: string;
  for?: string | undefined;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Every alerting rule of the rules file (recording rules, if any, are left out). */
export async function loadAlertRules(file = ALERT_RULES_FILE): Promise<AlertRule[]> {
  const doc = parse(await readFile(file, 'utf8')) as { groups: { name: string; rules: Partial<AlertRule>[] }[] };
  return doc.groups.flatMap((g) => g.rules.filter((r) => r.alert).map((r) => ({ group: g.name, alert: r.alert!, expr: r.expr!, for: r.for, labels: r.labels ?? {}, annotations: r.annotations ?? {} })));
}
