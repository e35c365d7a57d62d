// The bearer token for the API server. A token file (a projected ServiceAccount token, which the
// kubelet rotates) is re-read at most once per refreshMs, as client-go does, and at once after
// the server answers 401 (the token may have rotated since).
import { readFile } from 'node:fs/promises';
import type { KubeCredentials } from './kube-config.ts';

export interface TokenSource {
  /** The token to send, or undefined (client certificates, or no credentials). */
  token(): Promise<string | undefined>;
  /** Forget the cached token (after a 401); true when a fresh read may help. */
  invalidate(): boolean;
}

export const TOKEN_FILE_REFRESH_MS = 60_000;

export function tokenSource(credentials: KubeCredentials, options: { refreshMs?: number; now?: () => number } = {}): TokenSource {
  if (credentials.kind === 'token') return { token: async () => credentials.token, invalidate: () => false };
  if (credentials.kind !== 'token-file') return { token: async () => undefined, invalidate: () => false };
  const refreshMs = options.refreshMs ?? TOKEN_FILE_REFRESH_MS;
  const now = options.now ?? Date.now;
  let cached: { token: string; readAtMs: number } | undefined;
  return {
    async token() {
      if (cached && now() - cached.readAtMs < refreshMs) return cached.token;
      const token = (await readFile(credentials.file, 'utf8')).trim();
      cached = { token, readAtMs: now() };
      return token;
    },
    invalidate() {
      cached = undefined;
      return true;
    },
  };
}
