import type { AppConfig } from '@app/core';
import { SecretBox } from './secret-box';

const box = (jwtSecret: string) => new SecretBox({ auth: { jwtSecret } } as AppConfig);

describe('SecretBox', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw4k5Mm7DiBqQ=';

  it('opens what it sealed, for the same webhook id only', () => {
    const a = box('a'.repeat(48));
    const sealed = a.seal('hook-1', secret);
    expect(sealed).not.toContain(secret.slice(6, 20));
    expect(a.seal('hook-1', secret)).not.toBe(sealed); // a fresh IV each time
    expect(a.open('hook-1', sealed)).toBe(secret);
    expect(() => a.open('hook-2', sealed)).toThrow();
  });

  it('cannot be opened under another server secret or after tampering', () => {
    const sealed = box('a'.repeat(48)).seal('hook-1', secret);
    expect(() => box('b'.repeat(48)).open('hook-1', sealed)).toThrow();
    const parts = sealed.split('.');
    const data = Buffer.from(parts[3], 'base64url');
    data[0] ^= 1;
    parts[3] = data.toString('base64url');
    expect(() => box('a'.repeat(48)).open('hook-1', parts.join('.'))).toThrow();
  });
});
