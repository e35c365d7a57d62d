// Checks of meaning that keep a careless spec from losing data or breaking sessions:
// retention policies that would keep nothing, and unbounded timeouts. Each with its field path.
import type { FieldError } from './validate.ts';
import { restoreSessionErrors } from './restore-rules.ts';
import { retentionPolicyProblem } from './retention-rules.ts';
import { timeoutProblem } from './timeout-rules.ts';
import { sessionTimeout } from './stash-spelling.ts';
import type { Resource } from './types.ts';

export function safetyErrors(doc: Resource): FieldError[] {
  const errors: FieldError[] = [];
  const spec = doc.spec as { retentionPolicy?: unknown; timeout?: unknown } | undefined;
  if (!spec || typeof spec !== 'object') return errors;
  if (doc.kind === 'BackupConfiguration' && spec.retentionPolicy && typeof spec.retentionPolicy === 'object') {
    const problem = retentionPolicyProblem(spec.retentionPolicy as Parameters<typeof retentionPolicyProblem>[0]);
    if (problem) errors.push({ field: 'spec.retentionPolicy', message: problem });
  }
  if (doc.kind === 'BackupConfiguration' || doc.kind === 'RestoreSession') {
    // spec.timeout or Stash's spec.timeOut (stash-spelling.ts).
    const t = sessionTimeout(spec);
    errors.push(...t.problems);
    const problem = typeof t.timeout === 'string' ? timeoutProblem(t.timeout) : undefined;
    if (problem) errors.push({ field: t.field, message: problem });
  }
  if (doc.kind === 'RestoreSession') errors.push(...restoreSessionErrors(spec as Parameters<typeof restoreSessionErrors>[0]));
  return errors;
}
