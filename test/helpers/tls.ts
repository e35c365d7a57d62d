// A throwaway certificate authority and a server certificate for 127.0.0.1/localhost (openssl).
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  caCert: string;
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

export async function makeTestPki(dir: string, names: string[] = ['localhost']): Promise<TestPki> {
  const f = (n: string) => join(dir, n);
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=sidestash test CA']);
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', `/CN=${names[0]}`]);
  await writeFile(f('ext.cnf'), `subjectAltName=IP:127.0.0.1,${names.map((n) => `DNS:${n}`).join(',')}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  await run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('ext.cnf')]);
  return { caCert: await readFile(f('ca.crt'), 'utf8'), certFile: f('server.crt'), keyFile: f('server.key'), cert: await readFile(f('server.crt'), 'utf8'), key: await readFile(f('server.key'), 'utf8') };
}
