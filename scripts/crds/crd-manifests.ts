// The CustomResourceDefinitions of sidestash.io/v1 (every kind but Secret: in Kubernetes mode the
// references name core/v1 Secrets), built from the HTTP API's spec schemas
// (controller/resources/schemas.ts), so that the API server and the HTTP API check the same rules.
// scripts/generate-crds.ts writes them to charts/sidestash/crds/; test/crd-generation.test.ts
// fails when the committed files differ.
import { stringify } from 'yaml';
import { specSchemas } from '../../controller/resources/schemas.ts';
import { API_VERSION, PLURALS } from '../../controller/resources/types.ts';
import type { Kind } from '../../controller/resources/types.ts';
import { toStructural } from './structural-schema.ts';
import type { Schema } from './structural-schema.ts';

export const CRD_GROUP = API_VERSION.split('/')[0]!;
export const CRD_VERSION = API_VERSION.split('/')[1]!;
export const CRD_CATEGORY = 'sidestash';
export type CrdKind = Exclude<Kind, 'Secret'>;
export const SIDESTASH_CRD_KINDS: CrdKind[] = ['Repository', 'AppBinding', 'BackupConfiguration', 'BackupSession', 'RestoreSession'];

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

/**
 * Stash's short names where Stash has one (repo, bc, restore); "bs" for BackupSession, which
 * has none in Stash. Not "rs": kubectl resolves that to ReplicaSets.
 */
export const SHORT_NAMES: Record<CrdKind, string[]> = {
  Repository: ['repo'],
  AppBinding: [],
  BackupConfiguration: ['bc'],
  BackupSession: ['bs'],
  RestoreSession: ['restore'],
};

/** Status fields as the controller writes them (controller/resources/types.ts). */
export const PRINTER_COLUMNS: Record<CrdKind, PrinterColumn[]> = {
  Repository: [
    { name: 'Integrity', type: 'boolean', jsonPath: '.status.integrity.ok', description: 'the newest repository check passed' },
    { name: 'Local-Path', type: 'string', jsonPath: '.spec.backend.local.path', priority: 1 },
    { name: 'S3-Bucket', type: 'string', jsonPath: '.spec.backend.s3.bucket', priority: 1 },
    { name: 'REST-URL', type: 'string', jsonPath: '.spec.backend.rest.url', priority: 1 },
    age,
  ],
  AppBinding: [
    { name: 'Type', type: 'string', jsonPath: '.spec.type' },
    { name: 'Secret', type: 'string', jsonPath: '.spec.secret.name', priority: 1 },
    age,
  ],
  BackupConfiguration: [
    { name: 'Schedule', type: 'string', jsonPath: '.spec.schedule' },
    { name: 'Paused', type: 'boolean', jsonPath: '.spec.paused' },
    { name: 'Last-Success', type: 'date', jsonPath: '.status.lastSuccessTime', description: 'when the newest successful session finished' },
    { name: 'Last-Phase', type: 'string', jsonPath: '.status.lastFinishedPhase', description: 'phase of the newest finished session' },
    { name: 'Next', type: 'date', jsonPath: '.status.nextScheduleTime', priority: 1 },
    age,
  ],
  BackupSession: [
    { name: 'Invoker', type: 'string', jsonPath: '.spec.invoker.name' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Progress', type: 'number', jsonPath: '.status.progress.percent', description: 'percent of the estimated dump size' },
    { name: 'Size', type: 'integer', jsonPath: '.status.bytesRead', description: 'bytes of the dump' },
    { name: 'Snapshot', type: 'string', jsonPath: '.status.snapshotId' },
    { name: 'Duration', type: 'number', jsonPath: '.status.durationSeconds', description: 'seconds' },
    { name: 'Trigger', type: 'string', jsonPath: '.spec.trigger', priority: 1 },
    { name: 'Message', type: 'string', jsonPath: '.status.message', priority: 1 },
    age,
  ],
  RestoreSession: [
    { name: 'Repository', type: 'string', jsonPath: '.spec.repository.name' },
    { name: 'Target', type: 'string', jsonPath: '.spec.target.ref.name' },
    { name: 'Snapshot', type: 'string', jsonPath: '.spec.snapshot' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Progress', type: 'number', jsonPath: '.status.progress.percent', description: 'percent of the snapshot restored' },
    { name: 'Rule-Snapshot', type: 'string', jsonPath: '.spec.target.rules[0].snapshots[0]', description: "Stash's spelling of the snapshot (spec.target.rules)", priority: 1 },
    { name: 'Source-Host', type: 'string', jsonPath: '.spec.target.rules[0].sourceHost', description: "Stash's spelling of the source host (spec.target.rules)", priority: 1 },
    { name: 'Duration', type: 'number', jsonPath: '.status.durationSeconds', description: 'seconds' },
    { name: 'Message', type: 'string', jsonPath: '.status.message', priority: 1 },
    age,
  ],
};

/**
 * Rules of the HTTP API that a CRD schema cannot carry, per kind. The controller applies them when
 * it reads an object (validateResource, controller/resources/validate.ts, the function the HTTP API uses).
 */
export const NOT_IN_CRD_SCHEMA: Record<'all' | CrdKind, string[]> = {
  all: [
    "metadata: the API server's own rules for names (DNS subdomain), namespaces, labels and annotations, not the HTTP API's schema",
    'unknown fields: the API server prunes them; kubectl (--validate=strict, its default) and server-side apply refuse them with the field path',
  ],
  Repository: ['spec.backend.local.path: plain, absolute, normalised, outside system trees (common/backend/local/repository-path.ts)'],
  AppBinding: [
    "spec.clientConfig: sidestash's socket/host/port or Stash's service/url, not both; service.namespace only the AppBinding's own; a url's port at most 65535 (stash-spelling.ts)",
  ],
  BackupConfiguration: [
    'spec.schedule: cron fields and values (croner); spec.timezone: a time zone the runtime knows',
    "spec.dumpArgs: each option against mariadb-dump's table and the allow-list (common/dump-args.ts)",
    'spec.retentionPolicy: a policy that would keep nothing (retention-rules.ts)',
    'spec.timeout (or spec.timeOut, not both): at least 1s and at most 168h (timeout-rules.ts)',
    'spec.integrityCheck.readDataSubset: "n/m" or "x%" (integrity-rules.ts)',
  ],
  BackupSession: [],
  RestoreSession: [
    "spec.target.rules (Stash's spelling) or spec.snapshot/spec.sourceHost, not both (stash-spelling.ts)",
    'spec.sourceHost, spec.target.rules[0].sourceHost: only with snapshot latest (stash-spelling.ts)',
    'spec.timeout (or spec.timeOut, not both): at least 1s and at most 168h (timeout-rules.ts)',
  ],
};

function lowerFirst(s: string): string {
  return s.toLowerCase();
}

export function crdObject(kind: CrdKind): { object: Schema; notes: string[] } {
  const plural = PLURALS[kind];
  const spec = toStructural(specSchemas[kind] as Schema, 'spec');
  const object: Schema = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${CRD_GROUP}`, labels: { 'app.kubernetes.io/name': 'sidestash', 'app.kubernetes.io/component': 'crd' } },
    spec: {
      group: CRD_GROUP,
      names: {
        kind,
        listKind: `${kind}List`,
        plural,
        singular: lowerFirst(kind),
        ...(SHORT_NAMES[kind].length > 0 ? { shortNames: SHORT_NAMES[kind] } : {}),
        categories: [CRD_CATEGORY],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: CRD_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS[kind],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: spec.schema,
                // Written by the controller only, through /status.
                status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              },
            },
          },
        },
      ],
    },
  };
  return { object, notes: spec.notes };
}

/** File name (under charts/sidestash/crds/) to its text, for every kind. */
export function crdFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const kind of SIDESTASH_CRD_KINDS) {
    const { object, notes } = crdObject(kind);
    const header = [
      `# ${kind} (${API_VERSION}). Generated by scripts/generate-crds.ts from controller/resources/schemas.ts: do not edit;`,
      '# run `node scripts/generate-crds.ts` after changing the schemas (test/crd-generation.test.ts checks).',
      '# Not in the CRD schema; the controller checks these when it reads the object (controller/resources/validate.ts):',
      ...[...NOT_IN_CRD_SCHEMA.all, ...NOT_IN_CRD_SCHEMA[kind], ...notes].map((n) => `#   - ${n}`),
    ];
    files.set(`${PLURALS[kind]}.${CRD_GROUP}.yaml`, `${header.join('\n')}\n${stringify(object, { lineWidth: 0 })}`);
  }
  return files;
}
