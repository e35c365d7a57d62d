import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSidestashError } from '../common/errors.ts';
import { jsonPath } from './jsonpath.ts';

const list = {
  apiVersion: 'v1',
  kind: 'List',
  items: [
    { metadata: { name: 'a', labels: { 'app.io/name': 'shop' } }, spec: { schedule: '0 2 * * *', paused: true }, status: { phase: 'Succeeded' } },
    { metadata: { name: 'b' }, spec: { schedule: '*/5 * * * *' } },
    { metadata: { name: 'c' }, spec: { schedule: '0 3 * * *', paused: false, history: 3 }, status: { phase: 'Failed' } },
  ],
  wanted: 'Failed',
};

describe('kubectl jsonpath templates', () => {
  const table: [string, string, unknown, string][] = [
    ['a field', '{.metadata.name}', list.items[0], 'a'],
    ['every item', '{.items[*].metadata.name}', list, 'a b c'],
    ['an index', '{.items[1].spec.schedule}', list, '*/5 * * * *'],
    ['a negative index', '{.items[-1].metadata.name}', list, 'c'],
    ['a slice', '{.items[0:1].metadata.name}', list, 'a'],
    ['a quoted key with dots and a slash', "{.items[0].metadata.labels['app.io/name']}", list, 'shop'],
    ['an escaped dot', '{.items[0].metadata.labels.app\\.io/name}', list, 'shop'],
    ['missing fields print nothing', '{.items[*].status.phase}', list, 'Succeeded Failed'],
    ['booleans and objects', '{.items[0].spec.paused} {.items[0].status}', list, 'true {"phase":"Succeeded"}'],
    ['literal text and string literals', 'name={.metadata.name}{"\\t"}x{"\\n"}', list.items[1], 'name=b\tx\n'],
    ['range', '{range .items[*]}{.metadata.name}:{.spec.schedule}{"\\n"}{end}', list, 'a:0 2 * * *\nb:*/5 * * * *\nc:0 3 * * *\n'],
    ['a filter on a string', '{.items[?(@.status.phase=="Failed")].metadata.name}', list, 'c'],
    ['a filter with single quotes and spaces (kubectl skips elements without the field)', "{.items[?( @.status.phase != 'Failed' )].metadata.name}", list, 'a'],
    ['a filter on a boolean', '{.items[?(@.spec.paused==true)].metadata.name}', list, 'a'],
    ['a filter on a number', '{.items[?(@.spec.history>=3)].metadata.name}', list, 'c'],
    ['a number filter skips non-numbers', '{.items[?(@.spec.schedule>2)].metadata.name}', list, ''],
    ['an existence filter', '{.items[?(@.status)].metadata.name}', list, 'a c'],
    ['an existence filter keeps present false values, as kubectl', '{.items[?(@.spec.paused)].metadata.name}', list, 'a c'],
    ['a filter against the root', '{.items[?(@.status.phase==$.wanted)].metadata.name}', list, 'c'],
    ['a filter with ] and ) inside its string', '{.items[?(@.metadata.name=="x])")].metadata.name}', list, ''],
    ['range over a filter', '{range .items[?(@.status.phase)]}{.metadata.name}={.status.phase};{end}', list, 'a=Succeeded;c=Failed;'],
    ['the root', '{@.kind}', list, 'List'],
    ['$ as the root', '{$.items[0].metadata.name}', list, 'a'],
    ['all values of an object', '{.items[0].status.*}', list, 'Succeeded'],
  ];
  for (const [name, template, doc, want] of table) it(name, () => assert.equal(jsonPath(template, doc), want));

  const refused: [string, string][] = [
    ['unclosed brace', '{.items'],
    ['range without end', '{range .items[*]}{.x}'],
    ['end without range', '{.x}{end}'],
    ['a filter with an unquoted string', '{.items[?(@.x==Failed)]}'],
    ['a filter without its parentheses', '{.items[?@.x=="y"]}'],
    ['a filter with an operator kubectl lacks', '{.items[?(@.x=~"y")]}'],
    ['recursive descent', '{..name}'],
    ['no leading dot', '{items}'],
    ['a bracket it cannot read', '{.items[a b]}'],
  ];
  for (const [name, template] of refused) {
    it(`refuses ${name} (a usage error)`, () => assert.throws(() => jsonPath(template, list), (e) => isSidestashError(e, 'SIDESTASH_INVALID_ARGUMENT')));
  }
});
