// An HTTP proxy for fault tests: forwards to an upstream server, keeping the Host header (so
// SigV4 signatures stay valid), and injects failures decided per request: a status code, a
// connection reset, a delay, or a lost answer (forwarded, then the connection reset).
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number }
  /** The request reaches the server; its answer is lost (the client's connection is reset). */
  | { kind: 'lose-answer' }
  | undefined;

export interface FaultyProxy {
  url: string;
  /** Requests seen, and how many got a fault. */
  stats: { requests: number; faults: number };
  /** Decides the fault for each request (undefined: forward untouched). */
  decide: (req: IncomingMessage, n: number) => Fault;
  stop(): Promise<void>;
}

export async function startFaultyProxy(upstream: string): Promise<FaultyProxy> {
  const target = new URL(upstream);
  const proxy: FaultyProxy = { url: '', stats: { requests: 0, faults: 0 }, decide: () => undefined, stop: async () => {} };
  const server: Server = createServer((req, res) => {
    const n = ++proxy.stats.requests;
    const fault = proxy.decide(req, n);
    if (fault) proxy.stats.faults++;
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      req.resume();
      req.on('end', () => res.writeHead(fault.status, { 'content-type': 'application/xml', ...fault.headers }).end(fault.body ?? `<Error><Code>InternalError</Code><Message>injected ${fault.status}</Message></Error>`));
      return;
    }
    const forward = (): void => {
      const up = request({ hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        if (fault?.kind === 'lose-answer') {
          upRes.resume();
          upRes.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    };
    if (fault?.kind === 'delay') setTimeout(forward, fault.ms);
    else forward();
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
