import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { isSidestashError } from '../../common/errors.ts';
import { SEALED_PREFIX, SecretCipher, decodeKey, generateKeyText, isSealed } from './secret-cipher.ts';

const row = { kind: 'Secret', namespace: 'default', name: 'db-creds' };
const cipher = new SecretCipher(randomBytes(32), 'SIDESTASH_ENCRYPTION_KEY');

describe('SecretCipher', () => {
  it('seals to a prefixed, non-deterministic form and opens it again', () => {
    const a = cipher.seal(row, '{"password":"hunter2"}');
    const b = cipher.seal(row, '{"password":"hunter2"}');
    assert.ok(a.startsWith(SEALED_PREFIX) && isSealed(a));
    assert.notEqual(a, b, 'a fresh nonce each time');
    assert.ok(!a.includes('hunter2'));
    assert.ok(!Buffer.from(a.slice(SEALED_PREFIX.length), 'base64').toString('latin1').includes('hunter2'));
    assert.equal(cipher.open(row, a), '{"password":"hunter2"}');
  });

  const refusals: [string, (sealed: string) => [typeof row, string], SecretCipher?][] = [
    ['another name (ciphertext moved between rows)', (s) => [{ ...row, name: 'other' }, s]],
    ['another namespace', (s) => [{ ...row, namespace: 'prod' }, s]],
    ['another kind', (s) => [{ ...row, kind: 'Repository' }, s]],
    ['a flipped ciphertext byte', (s) => {
      const raw = Buffer.from(s.slice(SEALED_PREFIX.length), 'base64');
      raw[14]! ^= 1;
      return [row, SEALED_PREFIX + raw.toString('base64')];
    }],
    ['a truncated value', (s) => [row, s.slice(0, SEALED_PREFIX.length + 20)]],
    ['plaintext where a sealed value belongs', () => [row, '{"password":"x"}']],
    ['another key', (s) => [row, s], new SecretCipher(randomBytes(32), 'SIDESTASH_ENCRYPTION_KEY_FILE (/k)')],
  ];
  for (const [what, tamper, other] of refusals) {
    it(`refuses ${what} with CORRUPT_FILE naming the row`, () => {
      const [r, stored] = tamper(cipher.seal(row, '{"password":"hunter2"}'));
      assert.throws(() => (other ?? cipher).open(r, stored), (err: unknown) => isSidestashError(err, 'SIDESTASH_CORRUPT_FILE') && err.message.includes(`${r.namespace}/${r.name}`));
    });
  }

  it('names the key setting when the key is wrong', () => {
    const other = new SecretCipher(randomBytes(32), 'SIDESTASH_ENCRYPTION_KEY_FILE (/etc/sidestash/key)');
    assert.throws(() => other.open(row, cipher.seal(row, '{}')), /SIDESTASH_ENCRYPTION_KEY_FILE \(\/etc\/sidestash\/key\)/);
  });

  it('accepts only base64 of exactly 32 bytes as a key', () => {
    const k = randomBytes(32);
    assert.deepEqual(decodeKey(k.toString('base64')), k);
    assert.deepEqual(decodeKey(`  ${k.toString('base64')}\n`), k);
    assert.deepEqual(decodeKey(k.toString('base64url')), k);
    assert.deepEqual(decodeKey(generateKeyText())?.length, 32);
    for (const bad of ['', 'short', randomBytes(16).toString('base64'), randomBytes(33).toString('base64'), `${k.toString('base64')}!`, k.toString('hex')]) assert.equal(decodeKey(bad), undefined, bad);
    assert.throws(() => new SecretCipher(randomBytes(16), 'X'), /32 bytes/);
  });
});
