// Kubernetes label selectors (`-l`, ?labelSelector=): comma-separated requirements, all of
// which must hold: key=value, key==value, key!=value, key (exists), !key (absent),
// key in (a,b), key notin (a,b). Keys and values are checked against Kubernetes' label syntax.
import { ErrorCodes, SidestashError } from './errors.ts';

export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'absent' };

const KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function invalid(selector: string, why: string): SidestashError {
  return new SidestashError(ErrorCodes.INVALID_ARGUMENT, `label selector ${JSON.stringify(selector)}: ${why} (use key=value, key!=value, key, !key, "key in (a,b)" or "key notin (a,b)", joined by commas)`);
}

/** Splits on commas outside parentheses. */
function terms(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of selector) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((t) => t.trim());
}

export function parseLabelSelector(selector: string): Requirement[] {
  if (selector.length > 4096) throw invalid(selector.slice(0, 40), 'longer than 4096 characters');
  if (selector.trim() === '') return [];
  return terms(selector).map((t): Requirement => {
    let m: RegExpExecArray | null;
    const checkKey = (k: string): string => {
      if (!KEY.test(k)) throw invalid(selector, `${JSON.stringify(k)} is not a label key`);
      return k;
    };
    const checkValue = (v: string): string => {
      if (!VALUE.test(v)) throw invalid(selector, `${JSON.stringify(v)} is not a label value`);
      return v;
    };
    if ((m = /^([^!=\s]+)\s*(==|=|!=)\s*([^!=\s]*)$/.exec(t))) {
      return { key: checkKey(m[1]!), op: m[2] === '!=' ? 'notin' : 'in', values: [checkValue(m[3]!)] };
    }
    if ((m = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(t))) {
      const values = m[3]!.split(',').map((v) => checkValue(v.trim()));
      return { key: checkKey(m[1]!), op: m[2] as 'in' | 'notin', values };
    }
    if ((m = /^!\s*(\S+)$/.exec(t))) return { key: checkKey(m[1]!), op: 'absent' };
    if (t && !/[\s=!()]/.test(t)) return { key: checkKey(t), op: 'exists' };
    throw invalid(selector, `cannot read ${JSON.stringify(t)}`);
  });
}

/** Whether labels satisfy every requirement. */
export function matchesLabels(requirements: Requirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return requirements.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'absent':
        return !has;
      case 'in':
        return has && r.values.includes(l[r.key]!);
      case 'notin':
        return !has || !r.values.includes(l[r.key]!);
    }
  });
}
