// Validates a resource document: schema (unknown fields rejected) and meaning (cron syntax,
// time zone, dump arguments on the allow-list). Every problem is reported, each with its
// field path, e.g. "spec.backend.local.path: is required". (Secret data must be base64: the schema says so.)
import { Cron } from 'croner';
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { DEFAULT_DUMP_ARGS, KINDS } from './types.ts';
import type { BackupConfigurationSpec, Kind, Resource } from './types.ts';
import { resourceSchema } from './schemas.ts';
import { safetyErrors } from './safety-rules.ts';
import { localRepositoryPathProblem } from '../../common/backend/local/repository-path.ts';
import { normaliseDumpArgs } from '../../common/dump-args.ts';
import { parallelDumpSelection } from '../../common/parallel-dump-args.ts';
import { secretValueErrors } from './secret-values.ts';
import { integrityCheckErrors } from './integrity-rules.ts';
import { wholeServerDumpProblem } from '../../common/whole-server-dump.ts';
import { didYouMean } from '../../common/did-you-mean.ts';
import { patternMessage } from './pattern-messages.ts';
import { scheduleProblem } from './schedule-message.ts';
import { scheduleFiringProblem } from './schedule-firing.ts';
import { appBindingAddress } from './stash-spelling.ts';
import { stashFieldHint } from './stash-field-hints.ts';

export interface FieldError {
  field: string;
  message: string;
}

// verbose: errors carry the failing value and schema (for human messages and suggestions).
const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validators = new Map<Kind, ValidateFunction>(KINDS.map((k) => [k, ajv.compile(resourceSchema(k))]));

function toFieldErrors(errors: ErrorObject[] | null | undefined): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors ?? []) {
    if (e.keyword === 'if' || e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      if (e.keyword === 'oneOf' && Array.isArray((e.params as { passingSchemas?: unknown }).passingSchemas)) {
        out.push({ field: path(e.instancePath), message: 'set exactly one backend (local, s3 or rest), not several' });
      } else if (e.keyword !== 'if') {
        out.push({ field: path(e.instancePath), message: e.keyword === 'oneOf' ? 'set exactly one backend: local, s3 or rest' : "set socket or host, or Stash's service or url" });
      }
      continue;
    }
    let field = path(e.instancePath);
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'propertyNames') continue; // its 'pattern' error names the key
    if (e.keyword === 'additionalProperties') {
      const unknown = String((e.params as { additionalProperty: string }).additionalProperty);
      field = join(field, unknown);
      message = stashFieldHint(field) ?? unknownFieldMessage(unknown, (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties);
    } else if (e.keyword === 'pattern') {
      // Never the regular expression: what the value must be, in words (pattern-messages.ts).
      const key = (e as { propertyName?: string }).propertyName;
      if (key !== undefined) field = join(field, key);
      message = `${key !== undefined ? 'key ' : ''}${patternMessage(String((e.params as { pattern: string }).pattern), key ?? e.data)}`;
    } else if (e.keyword === 'required') {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      // anyOf/oneOf branches report their own 'required'; the summary above covers them.
      if (e.schemaPath.includes('Of/')) continue;
      field = join(field, missing);
      message = 'is required';
    } else if (e.keyword === 'maxItems' && typeof (e.parentSchema as { description?: unknown } | undefined)?.description === 'string') {
      // A limit with its reason (stash-spelling.ts: one restore rule, one snapshot).
      message = `must hold ${(e.parentSchema as { description: string }).description}`;
    } else if (e.keyword === 'const' || e.keyword === 'enum') {
      message = `must be ${JSON.stringify((e.params as { allowedValue?: unknown; allowedValues?: unknown }).allowedValue ?? (e.params as { allowedValues?: unknown }).allowedValues)}`;
    }
    out.push({ field: field || '(document)', message });
  }
  return out;
}

/** "unknown field", with the closest known field names or, when none is close, the known ones. */
function unknownFieldMessage(name: string, properties: Record<string, unknown> | undefined): string {
  const known = Object.keys(properties ?? {});
  if (known.length === 0) return 'unknown field';
  return `unknown field${didYouMean(name, known) || ` (known fields: ${known.join(', ')})`}`;
}

function path(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : join(acc, p)), '');
}

function join(a: string, b: string): string {
  return a ? `${a}.${b}` : b;
}

export function validateResource(doc: unknown): FieldError[] {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return [{ field: '(document)', message: 'must be an object' }];
  const kind = (doc as { kind?: unknown }).kind;
  if (!KINDS.includes(kind as Kind)) return [{ field: 'kind', message: `must be one of ${KINDS.join(', ')}` }];
  const validate = validators.get(kind as Kind)!;
  const schemaErrors = validate(doc) ? [] : toFieldErrors(validate.errors);
  // Meaning is checked too, so that one answer lists every problem; a field the schema already
  // faulted is not reported twice.
  const faulted = new Set(schemaErrors.map((e) => e.field));
  return dedupe([...schemaErrors, ...[...semanticErrors(doc as Resource), ...safetyErrors(doc as Resource)].filter((e) => !faulted.has(e.field))]);
}

function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = `${e.field}\0${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function semanticErrors(doc: Resource): FieldError[] {
  const errors: FieldError[] = [];
  if (doc.kind === 'Repository') {
    // The rule the agent applies too before it opens a local repository.
    const path = (doc.spec as { backend?: { local?: { path?: unknown } } } | undefined)?.backend?.local?.path;
    const problem = typeof path === 'string' && path !== '' ? localRepositoryPathProblem(path) : undefined;
    if (problem) errors.push({ field: 'spec.backend.local.path', message: problem });
  }
  if (doc.kind === 'Secret') errors.push(...secretValueErrors(doc.spec));
  if (doc.kind === 'AppBinding') {
    // Stash's service/url or sidestash's socket/host (stash-spelling.ts); the API's default namespace when none is given.
    const ns = (doc.metadata as { namespace?: unknown } | undefined)?.namespace;
    errors.push(...appBindingAddress((doc.spec as { clientConfig?: unknown } | undefined)?.clientConfig, typeof ns === 'string' ? ns : 'default').problems);
  }
  if (doc.kind === 'BackupConfiguration' && doc.spec && typeof doc.spec === 'object') {
    const spec = doc.spec as unknown as Partial<BackupConfigurationSpec>;
    if (typeof spec.timezone === 'string') {
      try {
        new Intl.DateTimeFormat('en', { timeZone: spec.timezone });
      } catch {
        errors.push({ field: 'spec.timezone', message: `unknown time zone ${JSON.stringify(spec.timezone)}` });
      }
    }
    if (typeof spec.schedule === 'string') {
      try {
        const cron = new Cron(spec.schedule, { paused: true, ...(typeof spec.timezone === 'string' && errors.length === 0 ? { timezone: spec.timezone } : {}) });
        const problem = scheduleFiringProblem(spec.schedule, cron, Date.now());
        if (problem) errors.push({ field: 'spec.schedule', message: problem });
      } catch (err) {
        errors.push({ field: 'spec.schedule', message: scheduleProblem(spec.schedule, (err as Error).message) });
      }
    }
    // The allow-list the agent enforces too (common/dump-args.ts).
    if (Array.isArray(spec.dumpArgs)) {
      for (const p of normaliseDumpArgs(spec.dumpArgs).problems) errors.push({ field: `spec.dumpArgs[${p.index}]`, message: p.message });
    }
    // The parallel dumper's own allow-list over the same arguments (common/parallel-dump-args.ts).
    if (spec.dumper === 'parallel' && (spec.dumpArgs === undefined || Array.isArray(spec.dumpArgs)) && errors.every((e) => !e.field.startsWith('spec.dumpArgs'))) {
      for (const p of parallelDumpSelection(spec.dumpArgs ?? DEFAULT_DUMP_ARGS).problems) errors.push({ field: `spec.dumpArgs[${p.index}]`, message: p.message });
    }
    if (spec.parallel !== undefined && spec.dumper !== 'parallel') errors.push({ field: 'spec.parallel', message: 'spec.parallel is for spec.dumper: parallel' });
    errors.push(...integrityCheckErrors(spec));
    // A point-in-time restore replays the whole server's binary log over the dump (whole-server-dump.ts).
    if (spec.binlog?.enabled === true) {
      const problem = wholeServerDumpProblem(Array.isArray(spec.dumpArgs) ? spec.dumpArgs : DEFAULT_DUMP_ARGS);
      if (problem) errors.push({ field: 'spec.binlog.enabled', message: `point-in-time recovery replays the whole server's binary log over a dump, so spec.dumpArgs ${problem}` });
    }
  }
  return errors;
}
