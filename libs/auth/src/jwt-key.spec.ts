import * as jwt from 'jsonwebtoken';
import { jwtKey } from './jwt-key';

describe('jwtKey', () => {
  const secret = 'a-secret-of-at-least-thirty-two-characters-ünïcødé';
  const payload = { sub: 'user-1', email: 'a@example.com', iat: 1_700_000_000 };

  it('signs exactly as the plain secret string does', () => {
    expect(jwt.sign(payload, jwtKey(secret), { algorithm: 'HS256' })).toBe(jwt.sign(payload, secret, { algorithm: 'HS256' }));
  });

  it('verifies tokens signed with the string, and refuses other secrets', () => {
    const token = jwt.sign(payload, secret, { algorithm: 'HS256' });
    expect(jwt.verify(token, jwtKey(secret), { algorithms: ['HS256'] })).toMatchObject({ sub: 'user-1' });
    expect(() => jwt.verify(token, jwtKey(`${secret}x`), { algorithms: ['HS256'] })).toThrow('invalid signature');
  });

  it('is made once per secret', () => {
    expect(jwtKey(secret)).toBe(jwtKey(secret));
  });
});
