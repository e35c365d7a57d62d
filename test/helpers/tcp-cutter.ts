// A TCP relay in front of a server (TLS passes through untouched) that a test can cut: every
// open connection dropped at once (a watch's connection lost), and new ones refused while held.
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

export interface TcpCutter {
  /** The relay's URL, with the upstream's scheme (https://127.0.0.1:PORT). */
  url: string;
  /** Drops every open connection now. */
  cut(): void;
  /** Refuses (resets) new connections until release(). */
  hold(): void;
  release(): void;
  /** Connections accepted so far (refused ones included). */
  readonly accepted: number;
  stop(): Promise<void>;
}

export async function startTcpCutter(upstreamUrl: string): Promise<TcpCutter> {
  const target = new URL(upstreamUrl);
  const open = new Set<Socket>();
  let held = false;
  let accepted = 0;
  const server = createServer((client) => {
    accepted++;
    if (held) {
      client.destroy();
      return;
    }
    const up = connect(Number(target.port), target.hostname);
    open.add(client);
    open.add(up);
    const drop = (): void => {
      client.destroy();
      up.destroy();
      open.delete(client);
      open.delete(up);
    };
    client.on('error', drop).on('close', drop);
    up.on('error', drop).on('close', drop);
    client.pipe(up);
    up.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${target.protocol}//127.0.0.1:${port}`,
    cut() {
      for (const s of [...open]) s.destroy();
      open.clear();
    },
    hold() {
      held = true;
    },
    release() {
      held = false;
    },
    get accepted() {
      return accepted;
    },
    async stop() {
      for (const s of [...open]) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
