// An agent's report of a backup it ran offline is untrusted like every report (agent-reports.ts):
// each field is checked, the result with the same rules as a session's.
import type { OfflineSessionReport } from '../../common/offline-protocol.ts';
import { Fields, ISO_TIME, parseResult } from '../agents/agent-reports.ts';

const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const UID = /^[A-Za-z0-9-]{1,64}$/;

export function parseOfflineReport(body: unknown): OfflineSessionReport {
  const f = new Fields();
  const b = f.object(body, 'body') ?? {};
  if (typeof b.configuration !== 'string' || !NAME.test(b.configuration)) f.errors.push({ field: 'configuration', message: 'must be a BackupConfiguration name' });
  if (typeof b.configurationUid !== 'string' || !UID.test(b.configurationUid)) f.errors.push({ field: 'configurationUid', message: 'must be a uid' });
  for (const field of ['scheduledAt', 'startedAt'] as const) {
    const v = b[field];
    if (typeof v !== 'string' || !ISO_TIME.test(v) || !Number.isFinite(Date.parse(v))) f.errors.push({ field, message: 'must be an RFC 3339 time' });
  }
  if (f.errors.length > 0) f.fail('offline session report');
  const result = parseResult(b.result);
  return { configuration: b.configuration as string, configurationUid: b.configurationUid as string, scheduledAt: b.scheduledAt as string, startedAt: b.startedAt as string, result };
}
