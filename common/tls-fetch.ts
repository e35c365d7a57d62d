// The runtime's fetch, trusting one more CA (the controller's), without loading the undici
// package where the runtime allows (it costs a resident sidecar ~13 MiB):
// - Deno: an HttpClient with the CA (Deno.createHttpClient({ caCerts })) for these calls only;
// - Node >= 22.19 / 24.5: the CA is added to the process's default trust store
//   (tls.setDefaultCACertificates), which Node's built-in fetch uses;
// - older Node: undici's fetch with an Agent pinned to the CA, loaded only then.
// Without a CA it is the plain fetch (the system's trust store).
import { errorMessage } from './errors.ts';

export type FetchFn = (url: string, init: RequestInit) => Promise<Response>;

interface DenoHttp {
  createHttpClient(options: { caCerts: string[] }): unknown;
}

/** Which mechanism trustingFetch uses on this runtime (logged, and asserted by tests). */
export async function caMechanism(): Promise<'deno-http-client' | 'node-default-ca' | 'undici-agent'> {
  if ((globalThis as { Deno?: Partial<DenoHttp> }).Deno?.createHttpClient) return 'deno-http-client';
  const tls = await import('node:tls');
  return typeof (tls as { setDefaultCACertificates?: unknown }).setDefaultCACertificates === 'function' ? 'node-default-ca' : 'undici-agent';
}

/** The certificates of a PEM bundle, one PEM each. */
export function splitPemCertificates(pem: string): string[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((c) => `${c}\n`);
}

export async function trustingFetch(caPem: string | undefined): Promise<FetchFn> {
  if (!caPem) return (url, init) => fetch(url, init);
  const certs = splitPemCertificates(caPem);
  const mechanism = await caMechanism();
  if (mechanism === 'deno-http-client') {
    const client = (globalThis as unknown as { Deno: DenoHttp }).Deno.createHttpClient({ caCerts: certs });
    return (url, init) => fetch(url, { ...init, client } as RequestInit);
  }
  if (mechanism === 'node-default-ca') {
    const tls = (await import('node:tls')) as typeof import('node:tls') & { setDefaultCACertificates(certs: string[]): void; getCACertificates(type: 'default'): string[] };
    const current = tls.getCACertificates('default');
    const normalized = (pem: string): string => pem.replace(/\s+/g, '');
    const added = certs.filter((c) => !current.some((d) => normalized(d) === normalized(c)));
    if (added.length > 0) tls.setDefaultCACertificates([...current, ...added]);
    return (url, init) => fetch(url, init);
  }
  const undici = await import('undici');
  const dispatcher = new undici.Agent({ connect: { ca: caPem } });
  return (url, init) => undici.fetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
}

/** "fetch failed" with the reason underneath (e.g. the certificate error). */
export function fetchErrorMessage(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const inner = cause ? [cause.code, cause.message].filter(Boolean).join(': ') : '';
  return inner && !errorMessage(err).includes(inner) ? `${errorMessage(err)} (${inner})` : errorMessage(err);
}
