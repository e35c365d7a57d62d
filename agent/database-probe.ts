// Talks to the target database with the `mariadb` client the agent runs for restores anyway,
// through the session's private option file: a clear error before a session when the server
// is down or refuses the credentials, the data size a backup's ETA is estimated from, and
// small statements. (A client library would add ~25 MiB to a sidecar that stays resident.)
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import { startProgram } from './child-process.ts';

/** Runs SQL in batch mode; returns tab-separated rows without headers. */
export async function runSql(mariadbPath: string, optionsFile: string, sql: string, signal: AbortSignal): Promise<string> {
  const p = startProgram(mariadbPath, [`--defaults-extra-file=${optionsFile}`, '--batch', '--skip-column-names', '--connect-timeout=10', '-e', sql], ['ignore', 'pipe'], signal);
  let out = '';
  p.child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const { code } = await p.exited;
  if (code === 0) return out;
  const err = p.stderrTail();
  const denied = /ERROR (1045|1044|1698)\b/.test(err);
  const unreachable = /ERROR (2002|2003|2005|2006|2013)\b/.test(err);
  throw new SidestashError(ErrorCodes.DATABASE_UNAVAILABLE, `cannot use the database: ${err || `mariadb exited with code ${code}`}`, { retryable: !denied && (unreachable || code !== 1) });
}

/** Bytes of table data outside the system schemas (a dump is roughly that size). */
export async function estimateDataBytes(mariadbPath: string, optionsFile: string, signal: AbortSignal): Promise<number> {
  const out = await runSql(
    mariadbPath,
    optionsFile,
    "SELECT COALESCE(SUM(data_length), 0) FROM information_schema.tables WHERE table_schema NOT IN ('information_schema', 'performance_schema', 'sys', 'mysql')",
    signal,
  );
  const n = Number(out.trim());
  return Number.isFinite(n) ? n : 0;
}
