// Polynomials over GF(2) of degree < 64, as restic's chunker uses them (BigInt: these run
// once per repository open, never per byte).
import { randomBytes } from 'node:crypto';
import { ErrorCodes, SidestashError } from '../errors.ts';

export const POLYNOMIAL_DEGREE = 53;

export function degree(x: bigint): number {
  return x === 0n ? -1 : x.toString(2).length - 1;
}

export function polMod(x: bigint, d: bigint): bigint {
  const dd = degree(d);
  if (dd < 0) throw new RangeError('division by zero polynomial');
  let r = x;
  for (let dr = degree(r); dr >= dd; dr = degree(r)) r ^= d << BigInt(dr - dd);
  return r;
}

function polMulMod(a: bigint, b: bigint, m: bigint): bigint {
  let res = 0n;
  let x = a;
  let y = b;
  while (y > 0n) {
    if (y & 1n) res ^= x;
    y >>= 1n;
    x <<= 1n;
    if (degree(x) >= degree(m)) x = polMod(x, m);
  }
  return polMod(res, m);
}

function polGcd(a: bigint, b: bigint): bigint {
  let x = a;
  let y = b;
  while (y !== 0n) [x, y] = [y, polMod(x, y)];
  return x;
}

/** x^(2^p) - x mod g, for Ben-Or's irreducibility test. */
function qp(p: number, g: bigint): bigint {
  let res = 2n;
  for (let i = 0; i < p; i++) res = polMulMod(res, res, g);
  return polMod(res ^ 2n, g);
}

export function isIrreducible(x: bigint): boolean {
  const d = degree(x);
  for (let i = 1; i <= Math.floor(d / 2); i++) {
    if (polGcd(x, qp(i, x)) !== 1n) return false;
  }
  return true;
}

/** A random irreducible polynomial of degree 53, as restic's chunker.RandomPolynomial. */
export function randomPolynomial(): bigint {
  for (let tries = 0; tries < 1_000_000; tries++) {
    let f = randomBytes(8).readBigUInt64LE(0);
    f &= (1n << BigInt(POLYNOMIAL_DEGREE + 1)) - 1n;
    f |= (1n << BigInt(POLYNOMIAL_DEGREE)) | 1n;
    if (isIrreducible(f)) return f;
  }
  throw new Error('no irreducible polynomial found');
}

export function parsePolynomial(hex: unknown): bigint {
  if (typeof hex !== 'string' || !/^[0-9a-f]{1,16}$/i.test(hex)) {
    throw new SidestashError(ErrorCodes.CORRUPT_FILE, `config: invalid chunker_polynomial ${JSON.stringify(hex)}`);
  }
  const pol = BigInt(`0x${hex}`);
  if (degree(pol) !== POLYNOMIAL_DEGREE || !isIrreducible(pol)) {
    throw new SidestashError(ErrorCodes.UNSUPPORTED_REPOSITORY, `config: chunker polynomial ${hex} is not an irreducible polynomial of degree 53`);
  }
  return pol;
}
