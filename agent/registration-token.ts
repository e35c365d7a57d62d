// The credential an agent registers with: the enrolment token of the sqlite mode
// (SIDESTASH_AGENT_BOOTSTRAP_TOKEN), or in Kubernetes mode its projected ServiceAccount token
// (SIDESTASH_AGENT_TOKEN_FILE, audience sidestash), read again for every registration, since
// the kubelet rotates it (registration after a 401 therefore presents the current one).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import type { AgentConfig } from './config.ts';

const MAX_TOKEN_BYTES = 16 * 1024;

/** Why the token file cannot serve (checked at start-up), or undefined. */
export function tokenFileProblem(file: string): string | undefined {
  if (file === '') return 'must name a file';
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (text === '') return `${file} is empty`;
    if (text.length > MAX_TOKEN_BYTES) return `${file} is larger than ${MAX_TOKEN_BYTES} bytes: not a token`;
  } catch (err) {
    return `cannot read ${file}: ${(err as Error).message}`;
  }
  return undefined;
}

/** The token to register with now. */
export async function registrationToken(config: Pick<AgentConfig, 'bootstrapToken' | 'tokenFile'>): Promise<string> {
  if (config.tokenFile === undefined) return config.bootstrapToken;
  let text: string;
  try {
    text = (await readFile(config.tokenFile, 'utf8')).trim();
  } catch (err) {
    throw new SidestashError(ErrorCodes.INVALID_CONFIG, `SIDESTASH_AGENT_TOKEN_FILE: cannot read ${config.tokenFile}: ${(err as Error).message}`, { retryable: true });
  }
  if (text === '' || text.length > MAX_TOKEN_BYTES || /\s/.test(text)) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `SIDESTASH_AGENT_TOKEN_FILE: ${config.tokenFile} does not hold a token`, { retryable: true });
  return text;
}
