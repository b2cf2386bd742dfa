/**
 * A fresh `Idempotency-Key`: 128 random bits as 32 hex characters. `crypto.randomUUID` exists
 * only in secure contexts, and a self-hosted instance may well be served over plain HTTP on a LAN;
 * `getRandomValues` works everywhere.
 */
export function newIdempotencyKey(random: Pick<Crypto, 'getRandomValues'> = globalThis.crypto): string {
  const bytes = random.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
