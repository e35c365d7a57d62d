// The name of a scheduled BackupSession, as Stash names them: `<configuration>-<unix seconds of
// the scheduled time>`. Deterministic, so that the same scheduled run created twice (two
// controller replicas around a failover) conflicts on create instead of running twice. The
// configuration's name is cut so that the whole stays a 63-character DNS label.
import { MAX_GENERATED_NAME_LENGTH } from './generate-name.ts';

export function scheduledSessionName(configuration: string, scheduledMs: number): string {
  const suffix = `-${Math.floor(scheduledMs / 1000)}`;
  return `${configuration.slice(0, MAX_GENERATED_NAME_LENGTH - suffix.length).replace(/[.-]+$/, '')}${suffix}`;
}
