// `pause CONFIG` / `resume CONFIG`: sets a BackupConfiguration's spec.paused (Stash's
// `kubectl stash pause/resume`); and the check that a manual trigger of a paused
// configuration is meant (--force).
import { ErrorCodes, SidestashError, isSidestashError } from '../common/errors.ts';
import type { ApiClientOptions } from './api-client.ts';
import { api } from './api-client.ts';

interface Configuration {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string>; resourceVersion?: string };
  spec: Record<string, unknown>;
}

const path = (name: string, namespace: string): string => `/api/v1/backupconfigurations/${encodeURIComponent(name)}?namespace=${encodeURIComponent(namespace)}`;

/** The document that sets spec.paused, or undefined when it already has that value. */
export function withPaused(cfg: Configuration, paused: boolean): Configuration | undefined {
  if ((cfg.spec.paused === true) === paused) return undefined;
  const spec = { ...cfg.spec };
  if (paused) spec.paused = true;
  else delete spec.paused;
  // The version read: the controller refuses the write if the configuration changed since (CONFLICT).
  const m = cfg.metadata;
  return { apiVersion: cfg.apiVersion, kind: cfg.kind, metadata: { name: m.name, namespace: m.namespace, ...(m.labels ? { labels: m.labels } : {}), ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}) }, spec };
}

export async function setPaused(o: ApiClientOptions, name: string | undefined, namespace: string, paused: boolean): Promise<string> {
  if (!name) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `usage: sidestash ${paused ? 'pause' : 'resume'} CONFIG`);
  // Read, change, write over the version read; a change by someone else meanwhile: read again.
  for (let attempt = 1; ; attempt++) {
    const cfg = await api<Configuration>(o, 'GET', path(name, namespace));
    const doc = withPaused(cfg, paused);
    if (!doc) return `backupconfiguration/${name} already ${paused ? 'paused' : 'running on its schedule'}`;
    try {
      await api(o, 'POST', '/api/v1/apply', doc);
      return `backupconfiguration/${name} ${paused ? 'paused' : 'resumed'}`;
    } catch (err) {
      if (!isSidestashError(err, ErrorCodes.CONFLICT) || attempt >= 5) throw err;
    }
  }
}

/** Refuses (usage error, exit 2) a manual trigger of a paused configuration without --force. */
export async function checkTriggerAllowed(o: ApiClientOptions, name: string, namespace: string, force: boolean): Promise<void> {
  if (force) return;
  const cfg = await api<Configuration>(o, 'GET', path(name, namespace));
  if (cfg.spec.paused === true) {
    throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `backupconfiguration/${name} is paused; run "sidestash resume ${name}" first, or "sidestash backup trigger ${name} --force" for one backup while it stays paused`);
  }
}
