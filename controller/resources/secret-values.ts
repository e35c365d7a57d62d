// Secret values are text: passwords and user names reach the agent, mariadb and the repository
// as strings. A value that is not UTF-8 text is refused with its field path rather than altered
// (decoding it leniently puts U+FFFD in place of the bad bytes, and the password used would
// silently differ from the one stored). Binary values (keys, certificates in DER) are not
// supported; store them PEM- or base64-encoded in the value.
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import type { FieldError } from './validate.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /\p{Surrogate}/u;

/** The text of a base64 `data` value, or undefined when its bytes are not UTF-8. */
export function utf8OfBase64(value: string): string | undefined {
  try {
    return strictUtf8.decode(Buffer.from(value, 'base64'));
  } catch {
    return undefined;
  }
}

/** Problems with the values of a Secret's spec (its shape is the schema's business). */
export function secretValueErrors(spec: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const s = (spec ?? {}) as { data?: unknown; stringData?: unknown };
  const entries = (m: unknown): [string, unknown][] => (m && typeof m === 'object' && !Array.isArray(m) ? Object.entries(m) : []);
  for (const [k, v] of entries(s.data)) {
    if (typeof v === 'string' && utf8OfBase64(v) === undefined) errors.push({ field: `spec.data.${k}`, message: 'does not decode to UTF-8 text (secret values are text; encode binary values, e.g. as PEM)' });
  }
  for (const [k, v] of entries(s.stringData)) {
    // JSON can carry "\ud800", which no UTF-8 encoding represents.
    if (typeof v === 'string' && LONE_SURROGATE.test(v)) errors.push({ field: `spec.stringData.${k}`, message: 'contains an unpaired UTF-16 surrogate, which is not text' });
  }
  return errors;
}

/** A stored `data` value as text; a value stored before this check and not UTF-8 is an error, not altered. */
export function decodeSecretValue(value: string, secret: string, key: string): string {
  const text = utf8OfBase64(value);
  if (text === undefined) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `Secret ${secret}: data.${key} is not UTF-8 text; apply the Secret again with a text value`);
  return text;
}
