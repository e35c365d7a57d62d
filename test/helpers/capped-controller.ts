// The real controller in-process at a small connection cap (plain HTTP), and raw keep-alive
// sockets from one (NAT) address speaking HTTP/1.1 to it: for tests of which connections give way
// at the cap (controller/api/agent-connection-*.test.ts).
import { once } from 'node:events';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { createLogger } from '../../common/log.ts';
import { parseControllerConfig } from '../../controller/config.ts';
import { Controller } from '../../controller/controller.ts';
import { tempDir } from './tmp.ts';

export const ADMIN = 'admin-token-0123456789abcdef';
export const BOOT = 'boot-token-0123456789abcdef';
/** The address every socket comes from (a second loopback address, as agents behind one NAT). */
export const NAT = '127.0.0.2';

export interface CappedController {
  /** A new connection from NAT, connected. */
  open(): Promise<Socket>;
  /** One request on a kept connection: status and body, or status 0 when the server closed it. */
  request(s: Socket, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

export async function startCappedController(maxConnections: number, prefix: string): Promise<CappedController> {
  const dir = await tempDir(prefix);
  const config = parseControllerConfig({
    SIDESTASH_LISTEN: '127.0.0.1:0', SIDESTASH_DB: join(dir.path, 'c.db'), SIDESTASH_ADMIN_TOKEN: ADMIN, SIDESTASH_AGENT_BOOTSTRAP_TOKEN: BOOT,
    SIDESTASH_INSECURE_HTTP: 'true', SIDESTASH_MAX_CONNECTIONS: String(maxConnections), SIDESTASH_HEADERS_TIMEOUT: '60s',
  });
  const c = new Controller(config, createLogger({}, { level: 'error' }));
  const { port } = await c.start();
  const sockets: Socket[] = [];
  return {
    open: async () => {
      const s = connect({ port, host: '127.0.0.1', localAddress: NAT });
      s.on('error', () => {});
      sockets.push(s);
      await once(s, 'connect');
      return s;
    },
    request: (s, method, path, token, body) =>
      new Promise((resolve) => {
        if (s.destroyed) return resolve({ status: 0, body: '' });
        let text = '';
        const finish = (): void => {
          s.off('data', onData);
          s.off('close', onClose);
          const m = /^HTTP\/1\.1 (\d+)[\s\S]*?\r\n\r\n([\s\S]*)$/.exec(text);
          resolve({ status: m ? Number(m[1]) : 0, body: m?.[2] ?? '' });
        };
        const onData = (d: Buffer): void => {
          text += d.toString();
          const head = text.indexOf('\r\n\r\n');
          const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, head));
          if (head >= 0 && ((length && text.length - head - 4 >= Number(length[1])) || /^HTTP\/1\.1 204/.test(text))) finish();
        };
        const onClose = (): void => finish();
        s.on('data', onData);
        s.once('close', onClose);
        const payload = body === undefined ? '' : JSON.stringify(body);
        s.write(`${method} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`);
      }),
    stop: async () => {
      for (const s of sockets) s.destroy();
      await c.stop();
      await dir.cleanup();
    },
  };
}
