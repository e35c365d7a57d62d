// Checks of meaning for a RestoreSession spec that its schema cannot say: `sourceHost` selects
// the newest snapshot of a host, so it goes with `latest` only (a snapshot id is one snapshot);
// Stash's spec.target.rules is one rule with one snapshot, never together with spec.snapshot or
// spec.sourceHost. The rules are stash-spelling.ts's restoreSelection, which the controller
// applies when it reads the spec too.
import type { FieldError } from './validate.ts';
import { restoreSelection } from './stash-spelling.ts';

export function restoreSessionErrors(spec: unknown): FieldError[] {
  return restoreSelection(spec).problems;
}
