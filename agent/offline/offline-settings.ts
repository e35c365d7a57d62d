// Edge autonomy's settings (issue 15), parsed with the agent's config (agent/config.ts), every
// problem reported together. Autonomy is on when the agent has a state directory: there it keeps,
// encrypted, what it needs to run its targets' scheduled backups while the controller cannot be
// reached (state-file.ts). The key comes from a file outside that directory, or is derived from the
// enrolment token the agent already holds (in its environment or a Secret, never beside the cache).
import { readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { EnvReader } from '../../common/config-env.ts';

export interface OfflineSettings {
  /** SIDESTASH_STATE_DIR: where the encrypted state lives. */
  stateDir: string;
  /** SIDESTASH_OFFLINE_AFTER: how long the controller must have been unreachable before the agent runs schedules itself. */
  offlineAfterMs: number;
  /** SIDESTASH_STATE_KEY_FILE's bytes, or the enrolment token: what the state's key is derived from. */
  keyMaterial: Buffer;
  /** Where the key material came from (logged, never the material). */
  keySource: 'key-file' | 'enrolment-token';
}

export const DEFAULT_OFFLINE_AFTER = '10m';
const MIN_KEY_BYTES = 32;
const MAX_KEY_BYTES = 64 * 1024;

/** Absent when autonomy is off (no SIDESTASH_STATE_DIR) or a setting is wrong (then with a problem on `r`). */
export function parseOfflineSettings(r: EnvReader, enrolmentToken: string): OfflineSettings | undefined {
  const stateDir = r.string('SIDESTASH_STATE_DIR');
  const offlineAfterMs = r.durationMs('SIDESTASH_OFFLINE_AFTER', DEFAULT_OFFLINE_AFTER);
  const keyFile = r.string('SIDESTASH_STATE_KEY_FILE');
  if (stateDir === undefined) {
    if (keyFile !== undefined) r.problems.push('SIDESTASH_STATE_KEY_FILE: set without SIDESTASH_STATE_DIR (autonomy is off without a state directory)');
    return undefined;
  }
  if (!stateDir.startsWith('/')) {
    r.problems.push(`SIDESTASH_STATE_DIR: ${JSON.stringify(stateDir)} is not an absolute path`);
    return undefined;
  }
  if (offlineAfterMs < 1000) r.problems.push('SIDESTASH_OFFLINE_AFTER: at least 1s');
  if (keyFile === undefined) {
    const tokenFile = r.env('SIDESTASH_AGENT_BOOTSTRAP_TOKEN_FILE');
    if (tokenFile !== undefined && isInside(stateDir, tokenFile)) {
      r.problems.push(`SIDESTASH_AGENT_BOOTSTRAP_TOKEN_FILE: ${JSON.stringify(tokenFile)} is inside SIDESTASH_STATE_DIR, and the state's key is derived from it; keep the token elsewhere or set SIDESTASH_STATE_KEY_FILE outside the state directory`);
      return undefined;
    }
    if (enrolmentToken.length < 16) {
      r.problems.push('SIDESTASH_STATE_KEY_FILE: required with SIDESTASH_STATE_DIR when the agent has no enrolment token (Kubernetes mode): a file of at least 32 random bytes, outside the state directory (a Secret, a systemd credential)');
      return undefined;
    }
    return { stateDir, offlineAfterMs, keyMaterial: Buffer.from(enrolmentToken, 'utf8'), keySource: 'enrolment-token' };
  }
  if (isInside(stateDir, keyFile)) {
    r.problems.push(`SIDESTASH_STATE_KEY_FILE: ${JSON.stringify(keyFile)} is inside SIDESTASH_STATE_DIR; the key must not be stored beside what it encrypts`);
    return undefined;
  }
  let keyMaterial: Buffer;
  try {
    keyMaterial = readFileSync(keyFile);
  } catch (err) {
    r.problems.push(`SIDESTASH_STATE_KEY_FILE: cannot read ${JSON.stringify(keyFile)}: ${(err as Error).message}`);
    return undefined;
  }
  if (keyMaterial.length < MIN_KEY_BYTES || keyMaterial.length > MAX_KEY_BYTES) {
    r.problems.push(`SIDESTASH_STATE_KEY_FILE: ${JSON.stringify(keyFile)} holds ${keyMaterial.length} bytes; ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} expected (e.g. head -c 32 /dev/urandom)`);
    return undefined;
  }
  return { stateDir, offlineAfterMs, keyMaterial, keySource: 'key-file' };
}

/** Whether `file` is `dir` or lies under it, links resolved where the paths exist (a link to the state directory is the state directory). */
function isInside(dir: string, file: string): boolean {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  for (const [d, f] of [[resolve(dir), resolve(file)], [real(dir), real(file)]] as const) {
    const rel = relative(d, f);
    if (rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel))) return true;
  }
  return false;
}
