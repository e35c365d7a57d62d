// JSON Schema (as the HTTP API validates with, controller/resources/schemas.ts) to a Kubernetes
// structural OpenAPI v3 schema for a CRD. Keywords are allow-listed: a keyword this file does not
// know makes generation fail, so that a rule added to schemas.ts is never dropped silently.
// What Kubernetes cannot express is returned as notes (field path and what the API server does
// instead) for the CRD files' header.

export type Schema = Record<string, unknown>;

export interface Converted {
  schema: Schema;
  /** "spec.backend: ..." lines: rules of the source schema that the CRD cannot carry. */
  notes: string[];
}

/** Keywords copied as they are (the API server checks them). */
const KEPT = new Set(['type', 'description', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems', 'enum']);
/** Keywords converted below. */
const CONVERTED = new Set(['properties', 'required', 'additionalProperties', 'items', 'const', 'oneOf', 'anyOf', 'propertyNames']);

function typeOfValues(values: unknown[], path: string): string {
  const types = new Set(values.map((v) => (Number.isInteger(v) ? 'integer' : typeof v)));
  const [only] = [...types];
  if (types.size !== 1 || !['string', 'integer', 'number', 'boolean'].includes(only!)) throw new Error(`${path}: cannot derive one type from ${JSON.stringify(values)}`);
  return only!;
}

/** A junctor branch may only name required fields of its object (structural rule: no type, no properties). */
function junctorBranches(branches: unknown, properties: Schema | undefined, path: string, keyword: string): Schema[] {
  if (!Array.isArray(branches) || branches.length === 0) throw new Error(`${path}: ${keyword} must be a non-empty array`);
  return branches.map((b, i) => {
    const keys = Object.keys(b as Schema);
    const required = (b as Schema).required;
    if (keys.length !== 1 || keys[0] !== 'required' || !Array.isArray(required)) throw new Error(`${path}: ${keyword}[${i}] may hold only "required" to be structural (has ${keys.join(', ')})`);
    for (const r of required) if (!properties || !(String(r) in properties)) throw new Error(`${path}: ${keyword}[${i}] requires ${String(r)}, which is not a property`);
    return { required: [...required] };
  });
}

export function toStructural(source: Schema, path: string): Converted {
  const notes: string[] = [];
  const schema = convert(source, path, notes);
  return { schema, notes };
}

function convert(source: Schema, path: string, notes: string[]): Schema {
  for (const k of Object.keys(source)) if (!KEPT.has(k) && !CONVERTED.has(k)) throw new Error(`${path}: keyword ${JSON.stringify(k)} has no Kubernetes conversion here (scripts/crds/structural-schema.ts)`);
  const out: Schema = {};
  for (const k of KEPT) if (k in source) out[k] = Array.isArray(source[k]) ? [...(source[k] as unknown[])] : source[k];
  if ('const' in source) {
    if ('enum' in source) throw new Error(`${path}: const and enum together`);
    out.enum = [source.const];
  }
  if (out.type === undefined) {
    if (Array.isArray(out.enum)) out.type = typeOfValues(out.enum as unknown[], path);
    else if ('properties' in source || 'additionalProperties' in source) out.type = 'object';
    else throw new Error(`${path}: no type (a structural schema needs one on every field)`);
  }
  if (typeof out.type !== 'string') throw new Error(`${path}: type must be one name, not ${JSON.stringify(out.type)}`);
  const properties = source.properties as Record<string, Schema> | undefined;
  if (properties) {
    out.properties = Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, convert(s, `${path}.${name}`, notes)]));
  }
  if (Array.isArray(source.required) && source.required.length > 0) {
    for (const r of source.required) if (!properties || !(String(r) in properties)) throw new Error(`${path}: required ${String(r)} is not a property`);
    out.required = [...source.required];
  }
  const additional = source.additionalProperties;
  if (additional === false) {
    // Kubernetes prunes unknown fields (structural schemas); kubectl's default --validate=strict
    // makes the API server refuse them instead. Nothing to write: it is the CRD's default.
  } else if (additional !== undefined) {
    if (properties) throw new Error(`${path}: properties and additionalProperties together are not structural`);
    if (additional === true || typeof additional !== 'object') throw new Error(`${path}: additionalProperties must be false or a schema`);
    out.additionalProperties = convert(additional as Schema, `${path}.*`, notes);
  }
  if (source.items !== undefined) {
    if (out.type !== 'array') throw new Error(`${path}: items on a ${String(out.type)}`);
    out.items = convert(source.items as Schema, `${path}[*]`, notes);
  } else if (out.type === 'array') throw new Error(`${path}: an array needs items`);
  for (const j of ['oneOf', 'anyOf'] as const) if (j in source) out[j] = junctorBranches(source[j], properties, path, j);
  if ('propertyNames' in source) notes.push(`${path}: key names (propertyNames) are not checked by the API server`);
  const { type, ...rest } = out;
  return { type, ...rest };
}
