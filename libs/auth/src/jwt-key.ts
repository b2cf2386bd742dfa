import { createSecretKey, KeyObject } from 'node:crypto';

const keys = new Map<string, KeyObject>();

/**
 * JWT_SECRET as the HMAC key object jsonwebtoken signs and verifies with. Given the plain string,
 * jsonwebtoken first tries to parse it as a PEM public key on every call, which throws, and only
 * then makes this same key (UTF-8 bytes of the secret): about a millisecond of CPU per
 * authenticated request. Made once per secret instead; tokens are byte-for-byte the same.
 */
export function jwtKey(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    keys.set(secret, key);
  }
  return key;
}
