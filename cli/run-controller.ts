// `sidestash controller`: runs until SIGINT/SIGTERM.
import { createLogger } from '../common/log.ts';
import { parseControllerConfig } from '../controller/config.ts';
import { Controller } from '../controller/controller.ts';

export async function runController(signal: AbortSignal): Promise<number> {
  const log = createLogger({ component: 'controller' });
  const controller = new Controller(parseControllerConfig(), log);
  try {
    await controller.start();
  } catch (err) {
    // A port in use: stop what did start (timers, the other listener) so that the process exits.
    await controller.stop().catch(() => {});
    throw err;
  }
  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  log.info('shutting down');
  await controller.stop();
  return 0;
}
