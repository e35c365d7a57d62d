// The agent's state file (edge autonomy): JSON encrypted with AES-256-GCM under a key derived by
// HKDF-SHA256 from the configured key material and a salt fresh for every write, the agent's
// identity bound as additional data (another agent's file does not open). Written to a
// temporary file, flushed and renamed, so a crash leaves the old state or the new one.
// It holds database and repository credentials: mode 0600, in a directory only the agent reads.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';

export const STATE_FILE_NAME = 'agent-state.enc';
const FORMAT = 'sidestash-agent-state';
const INFO = 'sidestash agent state v1';

interface Envelope {
  format: typeof FORMAT;
  version: 1;
  salt: string;
  iv: string;
  tag: string;
  data: string;
}

function key(material: Buffer, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', material, salt, INFO, 32));
}

export function sealState(plain: unknown, material: Buffer, identity: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key(material, salt), iv);
  cipher.setAAD(Buffer.from(identity, 'utf8'));
  const data = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final()]);
  const env: Envelope = { format: FORMAT, version: 1, salt: salt.toString('base64'), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  return JSON.stringify(env);
}

/** The state a sealed file holds; STATE_UNREADABLE when it is not one, or not this agent's with this key. */
export function openState(sealed: string, material: Buffer, identity: string): unknown {
  let env: Partial<Envelope>;
  try {
    env = JSON.parse(sealed) as Partial<Envelope>;
  } catch {
    throw unreadable('it is not JSON');
  }
  if (env.format !== FORMAT || env.version !== 1 || typeof env.salt !== 'string' || typeof env.iv !== 'string' || typeof env.tag !== 'string' || typeof env.data !== 'string') throw unreadable('it is not a sidestash agent state file');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key(material, Buffer.from(env.salt, 'base64')), Buffer.from(env.iv, 'base64'));
    decipher.setAAD(Buffer.from(identity, 'utf8'));
    decipher.setAuthTag(Buffer.from(env.tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(env.data, 'base64')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as unknown;
  } catch {
    throw unreadable('it does not open with this agent\'s key and identity (another key, another agent, or damaged)');
  }
}

function unreadable(why: string): SidestashError {
  return new SidestashError(ErrorCodes.INVALID_CONFIG, `the agent's state file cannot be read: ${why}`);
}

/** The sealed state in `dir`, or undefined when there is none yet. */
export async function readStateFile(dir: string): Promise<string | undefined> {
  try {
    return await readFile(join(dir, STATE_FILE_NAME), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function writeStateFile(dir: string, sealed: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `${STATE_FILE_NAME}.tmp`);
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(sealed);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, STATE_FILE_NAME));
  const d = await open(dir, 'r');
  try {
    await d.sync().catch(() => {});
  } finally {
    await d.close();
  }
}
