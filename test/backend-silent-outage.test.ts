// A silent outage: the link drops packets instead of refusing (a dead uplink behind NAT, a
// firewall that blackholes), so a request's connection is open and nothing ever answers. Each
// S3 and REST request must still end, with a retryable error, after the backend's request
// timeout, so that the retry window closes and the session fails instead of hanging (README,
// "Long outages": "It never hangs"). A real TCP server that accepts and never answers stands in
// for the blackholed endpoint; the backends' request timeout is shortened to one second.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { S3Backend } from '../common/backend/s3/s3-backend.ts';
import { parseS3Location } from '../common/backend/s3/s3-config.ts';

/** Far beyond the one-second request timeout: a request still waiting then hangs. */
const HANG_MS = 30_000;

async function endsOrHangs(what: string, call: Promise<unknown>): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), HANG_MS)));
  try {
    const outcome = await Promise.race([call.then(() => 'answered', (err: unknown) => err), hang]);
    assert.notEqual(outcome, 'hang', `${what}: still waiting ${HANG_MS / 1000} s after a request timeout of 1 s`);
    return outcome;
  } finally {
    clearTimeout(timer);
  }
}

describe('a silent outage (connections open, nothing answers)', () => {
  let server: Server;
  let port = 0;
  const sockets = new Set<Socket>();

  before(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', () => {}); // reads the request, never answers
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const s3 = (): S3Backend => {
    const config = parseS3Location(`s3:http://127.0.0.1:${port}/bucket`, { AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' });
    return new S3Backend({ ...config, requestTimeoutMs: 1000 }, { attempts: 2, baseDelayMs: 10, maxDelayMs: 10 });
  };

  for (const [what, call] of [
    ['S3 stat (HEAD)', (b: S3Backend) => b.stat({ type: 'config', name: 'config' })],
    ['S3 load (GET)', (b: S3Backend) => b.load({ type: 'keys', name: 'a'.repeat(64) })],
  ] as const) {
    it(`${what} ends with a retryable BACKEND_IO after the request timeout`, async () => {
      const backend = s3();
      try {
        const err = await endsOrHangs(what, call(backend));
        assert.ok(isSidestashError(err, ErrorCodes.BACKEND_IO), `a BACKEND_IO error, not ${String(err)}`);
        assert.equal(err.retryable, true);
      } finally {
        await backend.close();
      }
    });
  }
});
