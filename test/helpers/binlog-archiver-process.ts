// A binlog archiver in a process of its own, for tests that kill it (SIGKILL): archives the
// target ARCHIVE_TARGET of the server on ARCHIVE_SOCKET into the local repository ARCHIVE_REPO
// and prints "flushed" on stdout after each flush.
import { runBinlogArchiver } from '../../agent/binlog/binlog-archiver.ts';
import { LocalBackend } from '../../common/backend/local/local-backend.ts';
import { Repository } from '../../common/repository/repository.ts';
import { parseTargetRef } from '../../common/repository/snapshot-selector.ts';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const repo = await Repository.open(new LocalBackend(env('ARCHIVE_REPO')), env('ARCHIVE_PASSWORD'));
const target = parseTargetRef(env('ARCHIVE_TARGET'))!;
let flushedAt: string | undefined;
await runBinlogArchiver({
  repo,
  database: { socket: env('ARCHIVE_SOCKET'), username: 'root', password: '' },
  target,
  replicaServerId: 1003,
  flushIntervalMs: 50,
  heartbeatMs: 100,
  startFrom: { file: env('ARCHIVE_START') },
  signal: new AbortController().signal,
  onStatus: (s) => {
    if (s.flushedAt && s.flushedAt !== flushedAt) process.stdout.write('flushed\n');
    flushedAt = s.flushedAt;
  },
});
