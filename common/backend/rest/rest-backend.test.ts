import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startRestServer } from '../../../test/helpers/rest-server.ts';
import type { RestServer } from '../../../test/helpers/rest-server.ts';
import { backendContract } from '../contract.ts';
import { RestBackend } from './rest-backend.ts';

let server: RestServer;
let n = 0;
before(async () => {
  server = await startRestServer();
});
after(() => server.stop());

backendContract('rest (rclone serve restic)', async () => {
  const backend = new RestBackend(`rest:${server.url}/repo-${n++}/`, { REST_SERVER_USERNAME: server.username, REST_SERVER_PASSWORD: server.password });
  return { backend, cleanup: async () => {} };
});

it('rest backend refuses wrong credentials', async () => {
  const u = new URL(server.url);
  const b = new RestBackend(`rest:http://${server.username}:wrong@${u.host}/x/`);
  await assert.rejects(b.create(), (err: Error & { retryable?: boolean }) => /401/.test(err.message) && err.retryable === false);
  await b.close();
});
