// A real S3 server for tests: Versity S3 Gateway (Apache 2.0; SigV4, multipart, ListObjectsV2)
// over a temporary directory. scripts/setup.sh installs it into .tools/bin with `go install`.
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerOnFreePort } from './server-process.ts';

export interface S3Server {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

export function versitygwPath(): string {
  const local = join(import.meta.dirname, '..', '..', '.tools', 'bin', 'versitygw');
  if (existsSync(local)) return local;
  for (const dir of (process.env.PATH ?? '').split(':')) if (existsSync(join(dir, 'versitygw'))) return join(dir, 'versitygw');
  throw new Error('versitygw not found; run scripts/setup.sh');
}

export async function startS3Server(tls?: { certFile: string; keyFile: string }): Promise<S3Server> {
  const dir = await mkdtemp(join(process.env.SIDESTASH_TEST_TMP ?? tmpdir(), 'sidestash-s3-'));
  const accessKeyId = 'sidestash-test-key';
  const secretAccessKey = 'sidestash-test-secret-0123456789';
  const tlsArgs = tls ? ['--cert', tls.certFile, '--key', tls.keyFile] : [];
  const listening = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
  const proc = await startServerOnFreePort(versitygwPath(), (port) => ['--access', accessKeyId, '--secret', secretAccessKey, '--port', `127.0.0.1:${port}`, ...tlsArgs, 'posix', dir], listening, 'versitygw');
  const endpoint = `${tls ? 'https' : 'http'}://127.0.0.1:${proc.port}`;
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    async stop() {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
