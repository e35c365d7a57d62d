// The API listener's accept queue holds LISTEN_BACKLOG connections (capped by the kernel's
// net.core.somaxconn), not Node's 511: read back from the kernel with ss(8).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { it } from 'node:test';
import { createLogger } from '../../common/log.ts';
import { LISTEN_BACKLOG, listenOn } from './listener-limits.ts';

const hasSs = ((): boolean => {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

it('listens with a backlog of LISTEN_BACKLOG (or the kernel\'s cap)', { skip: hasSs ? false : 'ss(8) not installed' }, async () => {
  const server = createServer();
  try {
    const { port } = await listenOn(server, { host: '127.0.0.1', port: 0 }, createLogger({}, { level: 'error' }), 'api');
    const line = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim();
    // State Recv-Q Send-Q Local Peer: for a listening socket Send-Q is its backlog.
    const backlog = Number(line.split(/\s+/)[2]);
    const cap = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    assert.equal(backlog, Math.min(LISTEN_BACKLOG, cap), line);
    assert.ok(backlog > 511 || cap <= 511, 'more than Node\'s default');
  } finally {
    server.close();
  }
});
