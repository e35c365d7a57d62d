// kubectl's JSONPath templates (kubectl get -o jsonpath=...), the subset people use:
// {.a.b}, {.items[*].metadata.name}, {.items[0]}, {.items[-1:]}, {.metadata.labels['app.io/name']},
// {.a.*}, {@}, {"\n"}, {range .items[*]}...{end} and filters as kubectl has them:
// {.items[?(@.status.phase=="Failed")].metadata.name} (==, !=, <, <=, >, >= against a quoted
// string, a number, true/false/null or another @/$ path; [?(@.x)] keeps elements that have x;
// as kubectl, an element without the compared field is skipped, also by !=).
// Text outside braces is printed as is. Several results of one expression are joined by spaces;
// objects and lists print as JSON; a missing field prints nothing (kubectl's
// --allow-missing-template-keys=true). Not supported: recursive descent (..), refused, not misread.
// Hand-written: kubectl's template language (range/end, literal text) is not JSONPath as the npm
// JSONPath libraries implement it.
import { ErrorCodes, SidestashError } from '../common/errors.ts';

type Operand = { kind: 'literal'; value: unknown } | { kind: 'path'; fromRoot: boolean; steps: Step[] };
type Step =
  | { kind: 'field'; name: string }
  | { kind: 'all' }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start?: number; end?: number }
  | { kind: 'filter'; left: Step[]; op?: FilterOp; right?: Operand };
type FilterOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
type Node = { kind: 'text'; text: string } | { kind: 'path'; steps: Step[] } | { kind: 'range'; steps: Step[]; body: Node[] };

function bad(template: string, why: string): SidestashError {
  return new SidestashError(ErrorCodes.INVALID_ARGUMENT, `jsonpath ${JSON.stringify(template)}: ${why}`);
}

function parsePath(expr: string, template: string): Step[] {
  let s = expr.trim();
  if (s.startsWith('$')) s = s.slice(1);
  if (s === '@' || s === '' || s === '.') return [];
  if (s.startsWith('@')) s = s.slice(1);
  if (s.includes('..')) throw bad(template, 'recursive descent (..) is not supported');
  const steps: Step[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === '.') {
      i++;
      if (s[i] === '*') {
        steps.push({ kind: 'all' });
        i++;
        continue;
      }
      let name = '';
      while (i < s.length && s[i] !== '.' && s[i] !== '[') {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        name += s[i++];
      }
      if (!name) throw bad(template, `empty field name in ${JSON.stringify(expr)}`);
      steps.push({ kind: 'field', name });
    } else if (s[i] === '[') {
      const close = closingBracket(s, i);
      if (close < 0) throw bad(template, `unclosed [ in ${JSON.stringify(expr)}`);
      const inner = s.slice(i + 1, close).trim();
      i = close + 1;
      let m: RegExpMatchArray | null;
      if (inner === '*') steps.push({ kind: 'all' });
      else if ((m = /^'([^']*)'$|^"([^"]*)"$/.exec(inner))) steps.push({ kind: 'field', name: m[1] ?? m[2]! });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if ((m = /^(-?\d+)?:(-?\d+)?$/.exec(inner))) steps.push({ kind: 'slice', ...(m[1] !== undefined ? { start: Number(m[1]) } : {}), ...(m[2] !== undefined ? { end: Number(m[2]) } : {}) });
      else if (inner.startsWith('?')) steps.push(parseFilter(inner, template));
      else throw bad(template, `cannot read [${inner}]`);
    } else {
      throw bad(template, `expected "." or "[" at ${JSON.stringify(s.slice(i))} (paths start with ".", e.g. {.metadata.name})`);
    }
  }
  return steps;
}

/** The index of the `]` that closes the `[` at `open`, skipping quoted strings and nested brackets; -1 if none. */
function closingBracket(s: string, open: number): number {
  let depth = 0;
  let quote = '';
  for (let j = open; j < s.length; j++) {
    const d = s[j]!;
    if (quote) {
      if (d === '\\') j++;
      else if (d === quote) quote = '';
    } else if (d === '"' || d === "'") quote = d;
    else if (d === '[' || d === '(') depth++;
    else if (d === ']' || d === ')') {
      depth--;
      if (depth === 0) return d === ']' ? j : -1;
    }
  }
  return -1;
}

const FILTER = /^\?\(\s*(@[^=!<>]*?)\s*(?:(==|!=|<=|>=|<|>)\s*(.+?))?\s*\)$/s;

/** `?(@.a.b OP value)` or `?(@.a.b)`, kubectl's filter. */
function parseFilter(inner: string, template: string): Step {
  const m = FILTER.exec(inner);
  if (!m) throw bad(template, `cannot read the filter [${inner}] (e.g. [?(@.status.phase=="Failed")])`);
  const left = parsePath(m[1]!, template);
  if (m[2] === undefined) return { kind: 'filter', left };
  const r = m[3]!.trim();
  let right: Operand;
  if (/^'(.*)'$/s.test(r)) right = { kind: 'literal', value: r.slice(1, -1) };
  else if (/^"(.*)"$/s.test(r)) right = { kind: 'literal', value: JSON.parse(r) as string };
  else if (/^-?\d+(\.\d+)?$/.test(r)) right = { kind: 'literal', value: Number(r) };
  else if (r === 'true' || r === 'false' || r === 'null') right = { kind: 'literal', value: JSON.parse(r) as unknown };
  else if (r.startsWith('@') || r.startsWith('$')) right = { kind: 'path', fromRoot: r.startsWith('$'), steps: parsePath(r, template) };
  else throw bad(template, `cannot read ${JSON.stringify(r)} in the filter [${inner}]: quote strings, e.g. "Failed"`);
  return { kind: 'filter', left, op: m[2] as FilterOp, right };
}

function compare(a: unknown, op: FilterOp, b: unknown): boolean {
  if (op === '==') return a === b;
  if (op === '!=') return a !== b;
  const bothNumbers = typeof a === 'number' && typeof b === 'number';
  const bothStrings = typeof a === 'string' && typeof b === 'string';
  if (!bothNumbers && !bothStrings) return false;
  const x = a as number | string;
  const y = b as number | string;
  return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
}

/** Splits a template into its nodes; throws INVALID_ARGUMENT for one it cannot read. */
export function parseJsonPath(template: string): Node[] {
  const root: Node[] = [];
  const stack: Node[][] = [root];
  let i = 0;
  let text = '';
  const flush = (): void => {
    if (text) stack.at(-1)!.push({ kind: 'text', text });
    text = '';
  };
  while (i < template.length) {
    const c = template[i]!;
    if (c !== '{') {
      text += c;
      i++;
      continue;
    }
    // Find the closing brace, skipping quoted strings.
    let j = i + 1;
    let quote = '';
    for (; j < template.length; j++) {
      const d = template[j]!;
      if (quote) {
        if (d === '\\') j++;
        else if (d === quote) quote = '';
      } else if (d === '"' || d === "'") quote = d;
      else if (d === '}') break;
    }
    if (j >= template.length) throw bad(template, 'unclosed {');
    const inner = template.slice(i + 1, j).trim();
    i = j + 1;
    flush();
    if (/^"(.*)"$/s.test(inner)) {
      stack.at(-1)!.push({ kind: 'text', text: JSON.parse(inner) as string });
    } else if (inner.startsWith('range ')) {
      const node: Node = { kind: 'range', steps: parsePath(inner.slice(6), template), body: [] };
      stack.at(-1)!.push(node);
      stack.push(node.body);
    } else if (inner === 'end') {
      if (stack.length === 1) throw bad(template, '{end} without {range}');
      stack.pop();
    } else {
      stack.at(-1)!.push({ kind: 'path', steps: parsePath(inner, template) });
    }
  }
  flush();
  if (stack.length > 1) throw bad(template, '{range} without {end}');
  return root;
}

function apply(steps: Step[], values: unknown[], root: unknown): unknown[] {
  let cur = values;
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (step.kind === 'filter') {
        const elements = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.values(v) : [];
        for (const e of elements) {
          const left = apply(step.left, [e], root);
          if (step.op === undefined) {
            if (left.length > 0) next.push(e);
            continue;
          }
          if (left.length === 0) continue;
          const right = step.right!.kind === 'literal' ? [step.right!.value] : apply(step.right!.steps, [step.right!.fromRoot ? root : e], root);
          if (right.length > 0 && compare(left[0], step.op, right[0])) next.push(e);
        }
      } else if (step.kind === 'field') {
        if (v && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, step.name)) next.push((v as Record<string, unknown>)[step.name]);
      } else if (step.kind === 'all') {
        if (Array.isArray(v)) next.push(...v);
        else if (v && typeof v === 'object') next.push(...Object.values(v));
      } else if (Array.isArray(v)) {
        if (step.kind === 'index') {
          const k = step.index < 0 ? v.length + step.index : step.index;
          if (k >= 0 && k < v.length) next.push(v[k]);
        } else next.push(...v.slice(step.start, step.end));
      }
    }
    cur = next;
  }
  return cur;
}

function show(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (v === null || typeof v !== 'object') return String(v);
  return JSON.stringify(v);
}

function render(nodes: Node[], current: unknown, root: unknown): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'path') out += apply(n.steps, [current], root).map(show).join(' ');
    else for (const v of apply(n.steps, [current], root)) out += render(n.body, v, root);
  }
  return out;
}

/** Renders a template against a document (kubectl: the list object for `get KIND`, the item for `get KIND NAME`). */
export function jsonPath(template: string, doc: unknown): string {
  return render(parseJsonPath(template), doc, doc);
}
