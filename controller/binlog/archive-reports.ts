// What an agent reports of the binlog archives it runs is untrusted, like its session reports
// (agents/agent-reports.ts): every field type-checked and bounded against an allow-list (the
// archive's own rules for chains, file names and GTIDs), unknown fields dropped, a wrong one
// refused naming its field.
import { binlogFileSequence, parseGtidList } from '../../common/binlog/archive-layout.ts';
import type { BinlogArchiveReport } from '../../common/protocol.ts';
import { CODE, Fields, ISO_TIME } from '../agents/agent-reports.ts';

/** Archives one agent reports at most (its sync body stays under the agent API's 64 KiB). */
export const MAX_ARCHIVE_REPORTS = 100;
const CONFIGURATION = /^[a-z0-9][-a-z0-9.]{0,62}\/[a-z0-9][-a-z0-9.]{0,252}$/;

const time = (f: Fields, v: unknown, field: string): string | undefined => {
  const t = typeof v === 'string' && ISO_TIME.test(v) ? Date.parse(v) : NaN;
  if (Number.isFinite(t)) return new Date(t).toISOString();
  f.errors.push({ field, message: 'must be a time like 2026-01-31T23:59:59Z' });
  return undefined;
};

function parseReport(f: Fields, v: unknown, at: string): BinlogArchiveReport | undefined {
  const r = f.object(v, at);
  if (!r) return undefined;
  if (typeof r.configuration !== 'string' || !CONFIGURATION.test(r.configuration)) {
    f.errors.push({ field: `${at}.configuration`, message: 'must be a BackupConfiguration "namespace/name"' });
    return undefined;
  }
  const out: BinlogArchiveReport = { configuration: r.configuration };
  if (r.chain !== undefined) {
    if (typeof r.chain === 'string' && /^[0-9a-f]{16}$/.test(r.chain)) out.chain = r.chain;
    else f.errors.push({ field: `${at}.chain`, message: 'must be 16 lower-case hexadecimal digits' });
  }
  if (r.file !== undefined) {
    if (typeof r.file === 'string' && binlogFileSequence(r.file) !== undefined) out.file = r.file;
    else f.errors.push({ field: `${at}.file`, message: 'must be a binary log file name such as mysql-bin.000042' });
  }
  for (const k of ['position', 'bytesArchived', 'gaps'] as const) {
    if (r[k] !== undefined) {
      const n = f.number(r[k], `${at}.${k}`, true);
      if (n !== undefined) out[k] = n;
    }
  }
  if (r.lagSeconds !== undefined) {
    const n = f.number(r.lagSeconds, `${at}.lagSeconds`);
    if (n !== undefined) out.lagSeconds = n;
  }
  for (const k of ['lastEventTime', 'flushedAt'] as const) {
    if (r[k] !== undefined) {
      const t = time(f, r[k], `${at}.${k}`);
      if (t !== undefined) out[k] = t;
    }
  }
  if (r.lastGtid !== undefined) {
    if (typeof r.lastGtid === 'string' && r.lastGtid.length <= 4096 && parseGtidList(r.lastGtid) !== undefined) out.lastGtid = r.lastGtid;
    else f.errors.push({ field: `${at}.lastGtid`, message: 'must be a GTID list like 0-1-42,1-2-7' });
  }
  if (r.lastGap !== undefined) {
    const g = f.object(r.lastGap, `${at}.lastGap`);
    const detectedAt = g ? time(f, g.detectedAt, `${at}.lastGap.detectedAt`) : undefined;
    const message = g ? f.text(g.message, `${at}.lastGap.message`) : undefined;
    if (detectedAt !== undefined && message !== undefined) out.lastGap = { detectedAt, message };
  }
  if (r.error !== undefined) {
    const e = f.object(r.error, `${at}.error`);
    if (e) {
      const code = typeof e.code === 'string' && CODE.test(e.code) ? e.code : undefined;
      if (code === undefined) f.errors.push({ field: `${at}.error.code`, message: 'must be an error code like SIDESTASH_BINLOG_GAP' });
      const message = f.text(e.message, `${at}.error.message`);
      if (code !== undefined && message !== undefined) out.error = { code, message };
    }
  }
  return out;
}

export function parseArchiveReports(body: unknown): BinlogArchiveReport[] {
  const f = new Fields();
  const b = f.object(body, 'body') ?? {};
  const list = b.reports;
  const out: BinlogArchiveReport[] = [];
  if (!Array.isArray(list) || list.length > MAX_ARCHIVE_REPORTS) f.errors.push({ field: 'reports', message: `must be a list of at most ${MAX_ARCHIVE_REPORTS} reports` });
  else {
    list.forEach((v, i) => {
      const r = parseReport(f, v, `reports[${i}]`);
      if (r && out.some((x) => x.configuration === r.configuration)) f.errors.push({ field: `reports[${i}].configuration`, message: `${r.configuration} is reported twice` });
      else if (r) out.push(r);
    });
  }
  if (f.errors.length > 0) f.fail('binlog archive reports');
  return out;
}
