// The CRDs in charts/sidestash/crds/ are what scripts/generate-crds.ts makes from the HTTP API's
// schemas, and the conversion to Kubernetes structural schemas keeps every rule it can (tables).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { specSchemas } from '../controller/resources/schemas.ts';
import { SIDESTASH_CRD_KINDS, crdFiles, crdObject } from '../scripts/crds/crd-manifests.ts';
import { toStructural } from '../scripts/crds/structural-schema.ts';
import type { Schema } from '../scripts/crds/structural-schema.ts';
import { CRD_DIR, staleCrdFiles } from '../scripts/generate-crds.ts';
import { tempDir } from './helpers/tmp.ts';

describe('generated CRDs', () => {
  it('are committed as the generator makes them', async () => {
    assert.deepEqual(await staleCrdFiles(), [], 'run: node scripts/generate-crds.ts');
  });

  it('the check notices a changed, a missing and an extra file', async () => {
    const tmp = await tempDir('sidestash-crds-');
    try {
      await cp(CRD_DIR, tmp.path, { recursive: true });
      assert.deepEqual(await staleCrdFiles(tmp.path), []);
      await writeFile(join(tmp.path, 'backupsessions.sidestash.io.yaml'), '# edited\n');
      await writeFile(join(tmp.path, 'extra.yaml'), '');
      const { rm } = await import('node:fs/promises');
      await rm(join(tmp.path, 'appbindings.sidestash.io.yaml'));
      assert.deepEqual(await staleCrdFiles(tmp.path), ['appbindings.sidestash.io.yaml', 'backupsessions.sidestash.io.yaml', 'extra.yaml']);
    } finally {
      await tmp.cleanup();
    }
  });

  it('--check exits 0 on the committed files', async () => {
    await promisify(execFile)(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'generate-crds.ts'), '--check']);
  });

  it('every field of every spec schema is in its CRD (nothing pruned away)', () => {
    const paths = (s: Schema, at: string): string[] => {
      const props = (s.properties ?? {}) as Record<string, Schema>;
      const own = Object.entries(props).flatMap(([k, v]) => [`${at}.${k}`, ...paths(v, `${at}.${k}`)]);
      const items = s.items ? paths(s.items as Schema, `${at}[]`) : [];
      return [...own, ...items];
    };
    assert.deepEqual(SIDESTASH_CRD_KINDS, ['Repository', 'AppBinding', 'BackupConfiguration', 'BackupSession', 'RestoreSession']);
    for (const kind of SIDESTASH_CRD_KINDS) {
      const crd = parse(crdFiles().get(`${(crdObject(kind).object.metadata as { name: string }).name}.yaml`)!) as any;
      const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec as Schema;
      assert.deepEqual(paths(spec, 'spec'), paths(specSchemas[kind] as Schema, 'spec'), kind);
      assert.ok(paths(spec, 'spec').length > 0, kind);
    }
  });
});

describe('JSON Schema to structural schema', () => {
  const ok: [string, Schema, Schema][] = [
    ['const becomes a one-value enum with its type', { const: 'AppBinding' }, { type: 'string', enum: ['AppBinding'] }],
    ['an enum without type gets it', { enum: ['a', 'b'] }, { type: 'string', enum: ['a', 'b'] }],
    ['integer enum', { enum: [1, 2] }, { type: 'integer', enum: [1, 2] }],
    ['value rules are kept', { type: 'string', minLength: 1, maxLength: 9, pattern: '^x' }, { type: 'string', minLength: 1, maxLength: 9, pattern: '^x' }],
    ['numbers keep their bounds', { type: 'integer', minimum: -1, maximum: 5 }, { type: 'integer', minimum: -1, maximum: 5 }],
    ['additionalProperties false is left to pruning and strict validation', { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false }, { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }],
    ['an empty required list is dropped', { type: 'object', properties: { a: { type: 'boolean' } }, required: [] }, { type: 'object', properties: { a: { type: 'boolean' } } }],
    ['a string map stays a map', { type: 'object', additionalProperties: { type: 'string' } }, { type: 'object', additionalProperties: { type: 'string' } }],
    ['arrays keep items and maxItems', { type: 'array', maxItems: 3, items: { type: 'string', maxLength: 4 } }, { type: 'array', maxItems: 3, items: { type: 'string', maxLength: 4 } }],
    ['oneOf of required fields is structural', { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, oneOf: [{ required: ['a'] }, { required: ['b'] }] }, { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, oneOf: [{ required: ['a'] }, { required: ['b'] }] }],
    ['anyOf likewise', { type: 'object', properties: { a: { type: 'string' } }, anyOf: [{ required: ['a'] }] }, { type: 'object', properties: { a: { type: 'string' } }, anyOf: [{ required: ['a'] }] }],
  ];
  for (const [what, input, want] of ok) {
    it(what, () => assert.deepEqual(toStructural(input, 'spec').schema, want));
  }

  const refused: [string, Schema, RegExp][] = [
    ['an unknown keyword (never dropped silently)', { type: 'string', format: 'email' }, /spec: keyword "format" has no Kubernetes conversion/],
    ['a field without type', {}, /spec: no type/],
    ['a nested field without type', { type: 'object', properties: { x: {} } }, /spec\.x: no type/],
    ['a type list', { type: ['string', 'null'] }, /type must be one name/],
    ['properties and additionalProperties schema together', { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } }, /not structural/],
    ['a oneOf branch with a type', { type: 'object', properties: { a: { type: 'string' } }, oneOf: [{ type: 'object' }] }, /oneOf\[0\] may hold only "required"/],
    ['a oneOf branch naming no property', { type: 'object', properties: { a: { type: 'string' } }, oneOf: [{ required: ['b'] }] }, /requires b, which is not a property/],
    ['required naming no property', { type: 'object', properties: {}, required: ['b'] }, /required b is not a property/],
    ['mixed enum types', { enum: ['a', 1] }, /cannot derive one type/],
    ['an array without items', { type: 'array' }, /needs items/],
    ['additionalProperties true', { type: 'object', additionalProperties: true }, /must be false or a schema/],
  ];
  for (const [what, input, want] of refused) {
    it(`refuses ${what}`, () => assert.throws(() => toStructural(input, 'spec'), want));
  }

  it('notes what it cannot carry (propertyNames) with the field path', () => {
    const r = toStructural({ type: 'object', properties: { data: { type: 'object', propertyNames: { pattern: '^a' }, additionalProperties: { type: 'string' } } } }, 'spec');
    assert.deepEqual(r.notes, ['spec.data: key names (propertyNames) are not checked by the API server']);
    assert.deepEqual(r.schema, { type: 'object', properties: { data: { type: 'object', additionalProperties: { type: 'string' } } } });
  });
});
