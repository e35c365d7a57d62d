// A stand-in for a Kubernetes Service in front of several controller replicas: each new TCP
// connection goes to the next upstream in turn (kube-proxy spreads connections, not requests);
// an upstream that refuses (a killed replica) is skipped for that connection. TLS passes through.
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

export interface ServiceProxy {
  /** https://127.0.0.1:PORT (the scheme given). */
  url: string;
  /** Connections that reached each upstream (by its URL). */
  readonly served: Map<string, number>;
  stop(): Promise<void>;
}

export async function startServiceProxy(upstreamUrls: readonly string[], scheme: 'http' | 'https' = 'https'): Promise<ServiceProxy> {
  const upstreams = upstreamUrls.map((u) => new URL(u));
  const open = new Set<Socket>();
  const served = new Map<string, number>();
  let next = 0;
  const server = createServer((client) => {
    client.pause();
    open.add(client);
    client.on('close', () => open.delete(client)).on('error', () => client.destroy());
    const attempt = (tries: number): void => {
      if (tries >= upstreams.length || client.destroyed) {
        client.destroy();
        return;
      }
      const target = upstreams[next++ % upstreams.length]!;
      const up = connect(Number(target.port), target.hostname);
      up.once('error', () => {
        up.destroy();
        if (!connected) attempt(tries + 1);
        else client.destroy();
      });
      let connected = false;
      up.once('connect', () => {
        connected = true;
        open.add(up);
        served.set(target.href, (served.get(target.href) ?? 0) + 1);
        up.on('close', () => {
          open.delete(up);
          client.destroy();
        });
        client.on('close', () => up.destroy());
        client.pipe(up);
        up.pipe(client);
        client.resume();
      });
    };
    attempt(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served,
    async stop() {
      for (const s of [...open]) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
