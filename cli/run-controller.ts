// `sidestash controller`: runs until SIGINT/SIGTERM.
import { createLogger } from '../common/log.ts';
import { parseControllerConfig } from '../controller/config.ts';
import { Controller } from '../controller/controller.ts';
import { kubernetesParts } from '../controller/kubernetes/kubernetes-parts.ts';
import { controllerStartError } from './controller-start-error.ts';

export async function runController(signal: AbortSignal): Promise<number> {
  const log = createLogger({ component: 'controller' });
  const config = parseControllerConfig();
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  let controller: Controller;
  try {
    // Kubernetes mode (SIDESTASH_STORE=kubernetes): the API server's client and the store on it.
    controller = new Controller(config, log, kubernetesParts(config, log));
  } catch (err) {
    throw controllerStartError(err, config.databasePath, uid);
  }
  try {
    await controller.start();
  } catch (err) {
    // A port in use: stop what did start (timers, the other listener) so that the process exits.
    await controller.stop().catch(() => {});
    throw controllerStartError(err, config.databasePath, uid);
  }
  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  log.info('shutting down');
  await controller.stop();
  return 0;
}
