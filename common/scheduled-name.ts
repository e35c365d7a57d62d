// The name of a scheduled BackupSession, as Stash names them: `<configuration>-<unix seconds of
// the scheduled time>`. Deterministic, so that the same scheduled run created twice (two
// controller replicas around a failover) conflicts on create instead of running twice, and an
// agent's offline run of that time (agent/offline/) is recorded as that session. The whole stays
// a 63-character DNS label: a configuration name too long for that is cut and followed by five
// hex digits of its SHA-256, so that two configurations sharing their first characters do not
// share their sessions' names (the controller still refuses to take another configuration's
// session of the same name for a run of its own).
import { createHash } from 'node:crypto';
import { MAX_GENERATED_NAME_LENGTH } from './generate-name.ts';

const HASH_HEX_DIGITS = 5;

export function scheduledSessionName(configuration: string, scheduledMs: number): string {
  const suffix = `-${Math.floor(scheduledMs / 1000)}`;
  const room = MAX_GENERATED_NAME_LENGTH - suffix.length;
  if (configuration.length <= room) return `${configuration}${suffix}`;
  const hash = createHash('sha256').update(configuration).digest('hex').slice(0, HASH_HEX_DIGITS);
  return `${configuration.slice(0, room - HASH_HEX_DIGITS - 1).replace(/[.-]+$/, '')}-${hash}${suffix}`;
}
