// Enrolment tokens the controller is configured with (as opposed to those issued through the
// API): the Helm chart renders one per agent namespace into a mounted file of hashes
// (SIDESTASH_AGENT_TOKENS_FILE), and the single SIDESTASH_AGENT_BOOTSTRAP_TOKEN of the edge
// set-up (`npm start`) is a token scoped to SIDESTASH_AGENT_BOOTSTRAP_NAMESPACE ("default").
// A token for every namespace exists only when that variable is "*", and is warned about.
import { readFileSync } from 'node:fs';
import type { EnvReader } from '../../common/config-env.ts';
import { sha256 } from '../api/http-util.ts';
import { ALL_NAMESPACES, APPBINDING_PATTERN, NAMESPACE_PATTERN } from './agent-scope.ts';

export interface ConfiguredAgentToken {
  id: string;
  /** A namespace, or ALL_NAMESPACES. */
  namespace: string;
  targets?: string[];
  tokenSha256: string;
  /** Where it came from, for listings and log lines. */
  source: 'env' | 'file';
}

const ID = /^[a-z0-9][-a-z0-9.]{0,79}$/;

/** Parses the tokens file: a JSON list of {id, namespace, targets?, sha256}; problems named by entry. */
export function parseAgentTokensFile(text: string, where: string, problems: string[]): ConfiguredAgentToken[] {
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch (err) {
    problems.push(`${where}: not JSON: ${(err as Error).message}`);
    return [];
  }
  if (!Array.isArray(list)) {
    problems.push(`${where}: must be a JSON list of {id, namespace, targets?, sha256}`);
    return [];
  }
  const out: ConfiguredAgentToken[] = [];
  for (const [i, e] of list.entries()) {
    const at = `${where}[${i}]`;
    if (!e || typeof e !== 'object') {
      problems.push(`${at}: must be an object`);
      continue;
    }
    const { id, namespace, targets, sha256, ...rest } = e as Record<string, unknown>;
    const before = problems.length;
    for (const k of Object.keys(rest)) problems.push(`${at}.${k}: unknown field`);
    if (typeof id !== 'string' || !ID.test(id)) problems.push(`${at}.id: must be a lowercase name`);
    if (typeof namespace !== 'string' || !(NAMESPACE_PATTERN.test(namespace) || namespace === ALL_NAMESPACES)) problems.push(`${at}.namespace: must be a namespace name or "*"`);
    if (targets !== undefined && !(Array.isArray(targets) && targets.every((t) => typeof t === 'string' && APPBINDING_PATTERN.test(t)))) problems.push(`${at}.targets: must be a list of AppBinding names`);
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) problems.push(`${at}.sha256: must be the token's SHA-256 in hex`);
    if (problems.length > before) continue;
    if (out.some((t) => t.id === id)) {
      problems.push(`${at}.id: ${JSON.stringify(id)} appears twice`);
      continue;
    }
    if (out.some((t) => t.tokenSha256 === sha256)) {
      problems.push(`${at}.sha256: the same token is listed twice (each scope needs its own token)`);
      continue;
    }
    out.push({ id: id as string, namespace: namespace as string, ...(targets ? { targets: targets as string[] } : {}), tokenSha256: sha256 as string, source: 'file' });
  }
  return out;
}

/** Reads the configured enrolment tokens from the environment (problems go to the reader). */
export function readConfiguredAgentTokens(r: EnvReader): ConfiguredAgentToken[] {
  const tokens: ConfiguredAgentToken[] = [];
  const bootstrap = r.string('SIDESTASH_AGENT_BOOTSTRAP_TOKEN');
  const namespace = r.string('SIDESTASH_AGENT_BOOTSTRAP_NAMESPACE', 'default')!;
  if (!(NAMESPACE_PATTERN.test(namespace) || namespace === ALL_NAMESPACES)) r.problems.push(`SIDESTASH_AGENT_BOOTSTRAP_NAMESPACE: ${JSON.stringify(namespace)} is not a namespace name (or "*" for every namespace)`);
  if (bootstrap !== undefined) {
    r.check(16, 'SIDESTASH_AGENT_BOOTSTRAP_TOKEN', bootstrap);
    tokens.push({ id: 'bootstrap', namespace, tokenSha256: sha256(bootstrap), source: 'env' });
  }
  const file = r.string('SIDESTASH_AGENT_TOKENS_FILE');
  if (file !== undefined) {
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      r.problems.push(`SIDESTASH_AGENT_TOKENS_FILE: cannot read ${file}: ${(err as Error).message}`);
    }
    if (text !== undefined) {
      for (const t of parseAgentTokensFile(text, 'SIDESTASH_AGENT_TOKENS_FILE', r.problems)) {
        if (tokens.some((x) => x.id === t.id || x.tokenSha256 === t.tokenSha256)) r.problems.push(`SIDESTASH_AGENT_TOKENS_FILE: entry ${JSON.stringify(t.id)} repeats the id or the token of SIDESTASH_AGENT_BOOTSTRAP_TOKEN`);
        else tokens.push(t);
      }
    }
  }
  return tokens;
}
