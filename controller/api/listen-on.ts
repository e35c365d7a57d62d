// Listening: the kernel's accept backlog, and a listen error as INVALID_CONFIG naming the listener.
// (Moved from listener-limits.ts, which re-exports it.)
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { ErrorCodes, SidestashError, errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';

/**
 * Connections the kernel holds for accept() while the event loop is busy. Node's default, 511,
 * overflowed with a fleet's agents when the keep-alive was shorter than their heartbeat (each
 * heartbeat and progress report opened a TLS connection): an overflowing queue drops the SYN,
 * and the agent's call waits out TCP's 1 s, 3 s, 7 s retransmits. Still needed when a fleet
 * reconnects at once (a controller restart). The kernel caps it at net.core.somaxconn.
 */
export const LISTEN_BACKLOG = 4096;

/** Starts listening; a port in use (or any listen error) rejects with INVALID_CONFIG naming the listener. */
export async function listenOn(server: HttpServer | HttpsServer, at: { host: string; port: number }, log: Logger, listener: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      const why = err.code === 'EADDRINUSE' ? 'the address is already in use' : err.code === 'EACCES' ? 'permission denied' : errorMessage(err);
      reject(new SidestashError(ErrorCodes.INVALID_CONFIG, `${listener} cannot listen on ${at.host}:${at.port}: ${why}`, { cause: err, details: { listener, host: at.host, port: at.port, errno: err.code } }));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port: at.port, host: at.host, backlog: LISTEN_BACKLOG });
  });
  // Later errors (e.g. EMFILE on accept) are logged; the listener keeps serving.
  server.on('error', (err: Error) => log.error('listener error', { listener, err: errorMessage(err) }));
  return server.address() as AddressInfo;
}
