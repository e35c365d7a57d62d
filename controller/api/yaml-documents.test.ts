// YAML and JSON request bodies: linear parsing of a 1 MiB map, duplicate keys, alias bombs, too
// many aliases, and bytes that are not UTF-8, each refused with INVALID_ARGUMENT (a 400).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { parseDocuments } from './http-util.ts';
import { MAX_YAML_ALIASES } from './yaml-documents.ts';

/** Through parseDocuments, the API's entry point, as a YAML body. */
const parseYamlDocuments = (text: string): unknown[] => parseDocuments(Buffer.from(text), 'application/yaml');

const refused = (pattern: RegExp) => (err: unknown): boolean => isSidestashError(err, ErrorCodes.INVALID_ARGUMENT) && pattern.test(err.message);

/** A Secret whose stringData has `keys` keys, about 1 MiB in all. */
function bigSecret(keys: number): string {
  let text = 'kind: Secret\nmetadata:\n  name: big\nspec:\n  stringData:\n';
  for (let i = 0; i < keys; i++) text += `    key-${String(i).padStart(6, '0')}: ${'v'.repeat(36)}\n`;
  return text;
}

describe('YAML bodies', () => {
  it('parses a 1 MiB document with 20,000 keys in time linear in its size, not quadratic', () => {
    const text = bigSecret(20_000);
    assert.ok(text.length >= 1024 * 1024, `${text.length} bytes`);
    // Ten times the keys must cost about ten times as long, not a hundred: a ratio, so that a busy
    // machine slows both sides alike (the best of five runs each). With the yaml package's
    // uniqueKeys check, 20,000 keys took about 7 s.
    const best = (t: string, keys: number): number => {
      let ms = Infinity;
      for (let run = 0; run < 5; run++) {
        const t0 = performance.now();
        const [doc] = parseYamlDocuments(t) as [{ spec: { stringData: Record<string, string> } }];
        ms = Math.min(ms, performance.now() - t0);
        assert.equal(Object.keys(doc.spec.stringData).length, keys);
      }
      return ms;
    };
    const small = best(bigSecret(2_000), 2_000);
    const large = best(text, 20_000);
    assert.ok(large / small < 35, `20,000 keys took ${large.toFixed(0)} ms, 2,000 took ${small.toFixed(1)} ms (${(large / small).toFixed(1)}x; linear is ~10x, quadratic ~100x)`);
  });

  it('refuses duplicate keys, with the line, in block and flow maps', () => {
    assert.throws(() => parseYamlDocuments('kind: Secret\nmetadata:\n  name: a\n  name: b\n'), refused(/document 1: duplicate key "name" at line 4/));
    assert.throws(() => parseYamlDocuments('a: 1\n---\nb: {x: 1, y: 2, x: 3}\n'), refused(/document 2: duplicate key "x"/));
    assert.throws(() => parseYamlDocuments('1: a\n1: b\n'), refused(/duplicate key "1"/));
    // The same rule as the yaml package's: the number 1 and the string "1" are different keys.
    assert.deepEqual(parseYamlDocuments('1: a\n"1": b\n'), [{ 1: 'b' }]);
  });

  it('refuses a billion-laughs alias bomb', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const [p, c] = [String.fromCharCode(96 + i), String.fromCharCode(97 + i)];
      levels.push(`${c}: &${c} [${Array(9).fill(`*${p}`).join(',')}]`);
    }
    assert.throws(() => parseYamlDocuments(`${levels.join('\n')}\n`), refused(/aliases expand too much/));
  });

  it(`refuses more than ${MAX_YAML_ALIASES} aliases in a document (their resolution is quadratic)`, () => {
    const anchors = Array.from({ length: MAX_YAML_ALIASES + 1 }, (_, i) => `  a${i}: &a${i} v`).join('\n');
    const aliases = Array.from({ length: MAX_YAML_ALIASES + 1 }, (_, i) => `  - *a${i}`).join('\n');
    assert.throws(() => parseYamlDocuments(`x:\n${anchors}\ny:\n${aliases}\n`), refused(/more than 100 aliases/));
    // A few aliases are fine.
    assert.deepEqual(parseYamlDocuments('x: &args ["--single-transaction"]\ny: *args\n'), [{ x: ['--single-transaction'], y: ['--single-transaction'] }]);
  });

  it('refuses nesting deeper than the stack, and syntax errors', () => {
    assert.throws(() => parseYamlDocuments(`a: ${'['.repeat(100_000)}${']'.repeat(100_000)}`), refused(/invalid YAML in document 1/));
    assert.throws(() => parseYamlDocuments('kind: [unclosed'), refused(/invalid YAML in document 1/));
  });
});

describe('parseDocuments', () => {
  it('refuses a body that is not UTF-8 instead of replacing bytes with U+FFFD', () => {
    const yaml = Buffer.concat([Buffer.from('kind: Secret\nmetadata:\n  name: s\nspec:\n  stringData:\n    password: "pa'), Buffer.from([0xff, 0xfe]), Buffer.from('ss"\n')]);
    assert.throws(() => parseDocuments(yaml, 'application/yaml'), refused(/not valid UTF-8/));
    const json = Buffer.concat([Buffer.from('{"kind":"Secret","spec":{"stringData":{"password":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}}}')]);
    assert.throws(() => parseDocuments(json, 'application/json'), refused(/not valid UTF-8/));
    // Valid multi-byte text passes unchanged.
    assert.deepEqual(parseDocuments(Buffer.from('{"p":"pässwörd ✓"}'), 'application/json'), [{ p: 'pässwörd ✓' }]);
  });
});
