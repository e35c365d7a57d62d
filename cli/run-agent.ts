// `sidestash agent`: runs until SIGINT/SIGTERM.
import { createLogger } from '../common/log.ts';
import { SidecarAgent } from '../agent/agent.ts';
import { parseAgentConfig } from '../agent/config.ts';

export async function runAgent(signal: AbortSignal): Promise<number> {
  const config = parseAgentConfig();
  const log = createLogger({ component: 'agent', agent: config.name });
  if (config.controllerUrl.startsWith('http://')) log.warn('SIDESTASH_INSECURE_HTTP=true: talking to the controller over plain HTTP; the agent token and the credentials it receives cross the network unencrypted', { controller: config.controllerUrl });
  await new SidecarAgent(config, log).run(signal);
  log.info('agent stopped');
  return 0;
}
