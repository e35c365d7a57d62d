// The AgentConfig the runner tests use: an agent "default/a" that never talks to a controller
// (the tests call runBackup/runRestore directly), with the real MariaDB client programs.
import type { AgentConfig } from '../../agent/config.ts';

export function testAgentConfig(tmpDir: string, over: Partial<AgentConfig> = {}): AgentConfig {
  return {
    controllerUrl: 'https://unused.invalid', bootstrapToken: 'x', name: 'a', namespace: 'default', targets: ['default/db'],
    progressIntervalMs: 1000, mariadbDumpPath: 'mariadb-dump', mariadbPath: 'mariadb', tmpDir, ...over,
  };
}
