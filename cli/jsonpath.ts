// kubectl's JSONPath templates (kubectl get -o jsonpath=...), the subset people use:
// {.a.b}, {.items[*].metadata.name}, {.items[0]}, {.items[-1:]}, {.metadata.labels['app.io/name']},
// {.a.*}, {@}, {"\n"} and {range .items[*]}...{end}; text outside braces is printed as is.
// Several results of one expression are joined by spaces; objects and lists print as JSON; a
// missing field prints nothing (kubectl's --allow-missing-template-keys=true). Not supported:
// filters ([?(@.x=="y")]) and recursive descent (..): they are refused, not misread.
// Hand-written: kubectl's template language (range/end, literal text) is not JSONPath as the npm
// JSONPath libraries implement it.
import { ErrorCodes, SidestashError } from '../common/errors.ts';

type Step = { kind: 'field'; name: string } | { kind: 'all' } | { kind: 'index'; index: number } | { kind: 'slice'; start?: number; end?: number };
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
      const close = s.indexOf(']', i);
      if (close < 0) throw bad(template, `unclosed [ in ${JSON.stringify(expr)}`);
      const inner = s.slice(i + 1, close).trim();
      i = close + 1;
      let m: RegExpMatchArray | null;
      if (inner === '*') steps.push({ kind: 'all' });
      else if ((m = /^'([^']*)'$|^"([^"]*)"$/.exec(inner))) steps.push({ kind: 'field', name: m[1] ?? m[2]! });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if ((m = /^(-?\d+)?:(-?\d+)?$/.exec(inner))) steps.push({ kind: 'slice', ...(m[1] !== undefined ? { start: Number(m[1]) } : {}), ...(m[2] !== undefined ? { end: Number(m[2]) } : {}) });
      else if (inner.startsWith('?')) throw bad(template, 'filters ([?(...)]) are not supported');
      else throw bad(template, `cannot read [${inner}]`);
    } else {
      throw bad(template, `expected "." or "[" at ${JSON.stringify(s.slice(i))} (paths start with ".", e.g. {.metadata.name})`);
    }
  }
  return steps;
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

function apply(steps: Step[], values: unknown[]): unknown[] {
  let cur = values;
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (step.kind === 'field') {
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

function render(nodes: Node[], current: unknown): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'path') out += apply(n.steps, [current]).map(show).join(' ');
    else for (const v of apply(n.steps, [current])) out += render(n.body, v);
  }
  return out;
}

/** Renders a template against a document (kubectl: the list object for `get KIND`, the item for `get KIND NAME`). */
export function jsonPath(template: string, doc: unknown): string {
  return render(parseJsonPath(template), doc);
}
