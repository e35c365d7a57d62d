// Checks of meaning for a RestoreSession spec that its schema cannot say: `sourceHost` selects
// the newest snapshot of a host, so it goes with `latest` only (a snapshot id is one snapshot).
import type { FieldError } from './validate.ts';

export function restoreSessionErrors(spec: { snapshot?: unknown; sourceHost?: unknown }): FieldError[] {
  if (typeof spec.sourceHost !== 'string') return [];
  if (spec.snapshot !== undefined && spec.snapshot !== 'latest') {
    return [{ field: 'spec.sourceHost', message: `sourceHost selects the newest snapshot of a host and so goes with snapshot "latest"; snapshot ${JSON.stringify(spec.snapshot)} names one snapshot already: remove one of the two` }];
  }
  return [];
}
