// Secret values are text: refused at apply when they are not, and a value stored before that
// check is an error when a session needs it, never a password with U+FFFD in it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { secretValues } from './resource-service.ts';
import { secretValueErrors } from './secret-values.ts';
import type { Resource } from './types.ts';

const b64 = (bytes: number[] | string): string => Buffer.from(bytes as never).toString('base64');

describe('secretValueErrors', () => {
  const table: { name: string; spec: unknown; fields: string[] }[] = [
    { name: 'text values', spec: { data: { a: b64('pässwörd'), b: b64('') }, stringData: { c: 'x ✓' } }, fields: [] },
    { name: 'a lone 0xff byte', spec: { data: { a: b64([0x70, 0xff]) } }, fields: ['spec.data.a'] },
    { name: 'a truncated sequence', spec: { data: { a: b64([0xc3]) } }, fields: ['spec.data.a'] },
    { name: 'an overlong encoding of "/"', spec: { data: { a: b64([0xc0, 0xaf]) } }, fields: ['spec.data.a'] },
    { name: 'an encoded surrogate', spec: { data: { a: b64([0xed, 0xa0, 0x80]) } }, fields: ['spec.data.a'] },
    { name: 'an unpaired surrogate in stringData', spec: { stringData: { a: 'x\ud800', b: '\u{1F600}' } }, fields: ['spec.stringData.a'] },
    { name: 'shapes the schema reports', spec: { data: 'nope', stringData: [1] }, fields: [] },
  ];
  for (const t of table) it(t.name, () => assert.deepEqual(secretValueErrors(t.spec).map((e) => e.field), t.fields));
});

describe('secretValues', () => {
  const secret = (data: Record<string, string>): Resource => ({ apiVersion: 'sidestash.io/v1', kind: 'Secret', metadata: { name: 's', namespace: 'shop' }, spec: { data } }) as unknown as Resource;
  it('decodes text unchanged, a BOM included', () => assert.deepEqual(secretValues(secret({ p: b64('\ufeffpässwörd') })), { p: '\ufeffpässwörd' }));
  it('refuses a stored value that is not UTF-8 instead of altering it', () => {
    assert.throws(() => secretValues(secret({ p: b64([0x70, 0xff, 0x77]) })), (err: unknown) => isSidestashError(err, ErrorCodes.INVALID_CONFIG) && /Secret shop\/s: data\.p is not UTF-8 text/.test(err.message));
  });
});
