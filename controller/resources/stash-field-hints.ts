// Stash fields sidestash does not take, and why: the HTTP API's message for such an unknown field
// (validate.ts) says the reason instead of only "unknown field". The API server refuses them as
// unknown fields (kubectl's strict validation). Keys are field paths, [*] for any list index.
const SIDECAR = 'sidestash streams the dump through its agent sidecar (no Job, no interim volume): the pod sets what the agent runs with';
const RULE = 'a database dump is restored whole, into one target: a rule takes only snapshots and sourceHost';
const BACKEND = 'this Stash backend is not supported: use s3 (any S3-compatible store), rest or local';

export const STASH_FIELD_HINTS: Record<string, string> = {
  'spec.task.params': "Stash's task params are not taken; give mariadb-dump's options as spec.dumpArgs (a list; the default is --all-databases --single-transaction --routines --events --triggers --default-character-set=binary)",
  'spec.runtimeSettings': SIDECAR,
  'spec.tempDir': SIDECAR,
  'spec.interimVolumeTemplate': SIDECAR,
  'spec.driver': 'sidestash backs up with restic only (Stash\'s "Restic" driver)',
  'spec.hooks': "Stash's backup and restore hooks are not supported",
  'spec.rules': "write Stash's rules under spec.target.rules (Stash deprecated spec.rules)",
  'spec.target.alias': "sidestash's snapshots have the AppBinding's name as hostname; restore the snapshots of a Stash alias with spec.target.rules[0].sourceHost",
  'spec.target.rules[*].targetHosts': RULE,
  'spec.target.rules[*].paths': RULE,
  'spec.target.rules[*].include': RULE,
  'spec.target.rules[*].exclude': RULE,
  'spec.clientConfig.caBundle': 'give the CA as a Secret with key ca.crt, named by spec.tls.caSecretName',
  'spec.clientConfig.insecureSkipTLSVerify': "TLS to the database is verified against spec.tls.caSecretName's CA, never skipped",
  'spec.tlsSecret': "client certificates are not supported; the server's CA goes in a Secret named by spec.tls.caSecretName",
  'spec.backend.s3.insecureTLS': "give the S3 server's CA as CA_CERT_DATA in the storage Secret instead",
  'spec.backend.gcs': BACKEND,
  'spec.backend.azure': BACKEND,
  'spec.backend.swift': BACKEND,
  'spec.backend.b2': BACKEND,
};

/** "unknown field: <why>" for a Stash field's path (e.g. spec.target.rules[0].paths); undefined for any other. */
export function stashFieldHint(field: string): string | undefined {
  const why = STASH_FIELD_HINTS[field.replace(/\[\d+\]/g, '[*]')];
  return why === undefined ? undefined : `unknown field: ${why}`;
}
