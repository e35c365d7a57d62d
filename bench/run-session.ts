// Runs one agent session (backup or restore) in its own process, so that the benchmark can
// measure its wall time and peak RSS alone. Usage: node bench/run-session.ts ASSIGNMENT.json
// Prints {"result": SessionResult (Failed with the error's code when the runner throws), "peakRssKiB": the agent process's own peak RSS, "cpuSeconds": its user and system CPU time}.
import { readFile } from 'node:fs/promises';
import { runBackup } from '../agent/backup-runner.ts';
import type { AgentConfig } from '../agent/config.ts';
import { runRestore } from '../agent/restore-runner.ts';
import { resolveStdbuf } from '../agent/stdbuf.ts';
import { createLogger } from '../common/log.ts';
import { errorMessage, isSidestashError } from '../common/errors.ts';
import type { SessionAssignment, SessionResult } from '../common/protocol.ts';

const a = JSON.parse(await readFile(process.argv[2]!, 'utf8')) as SessionAssignment;
const config: AgentConfig = { controllerUrl: 'http://unused', bootstrapToken: 'x', name: 'bench', namespace: 'default', targets: [a.target], progressIntervalMs: 2000, mariadbDumpPath: 'mariadb-dump', mariadbPath: 'mariadb', tmpDir: process.env.TMPDIR ?? '/tmp' };
const stdbuf = resolveStdbuf(process.env.SIDESTASH_STDBUF ?? 'auto', process.env.PATH);
if (stdbuf) config.stdbufPath = stdbuf;
const hooks = { signal: new AbortController().signal, log: createLogger({ component: 'bench' }, { level: 'warn' }), onProgress: () => {} };
// A failed session is a Failed result, as the agent reports it (agent/agent.ts), not a crash.
let result: SessionResult;
try {
  result = a.kind === 'BackupSession' ? await runBackup(config, a, hooks) : await runRestore(config, a, hooks);
} catch (err) {
  result = { phase: 'Failed', error: { code: isSidestashError(err) ? err.code : 'SIDESTASH_INTERNAL', message: errorMessage(err) } };
}
const usage = process.resourceUsage();
process.stdout.write(`${JSON.stringify({ result, peakRssKiB: usage.maxRSS, cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6 })}\n`);
