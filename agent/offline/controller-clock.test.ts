// The agent learns the controller's clock from its answers (the Date header every HTTP answer
// carries), so that offline runs follow the scheduled times of the controller's clock
// (autonomy.ts): here a controller whose clock is 10 minutes behind the agent's.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { it } from 'node:test';
import { ControllerClient } from '../controller-client.ts';

it('the controller\'s clock offset is measured from the Date header of its answers', async () => {
  const behindMs = 10 * 60_000;
  const server = createServer((_req, res) => {
    res.setHeader('date', new Date(Date.now() - behindMs).toUTCString());
    res.setHeader('content-type', 'application/json');
    res.end('{"configurations":[]}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const client = new ControllerClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    assert.equal(client.clockOffsetMs, undefined, 'unknown before any answer');
    await client.offlinePlan(AbortSignal.timeout(10_000));
    const offset = client.clockOffsetMs;
    assert.ok(offset !== undefined && Math.abs(offset + behindMs) < 5_000, `offset ${offset}`);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
