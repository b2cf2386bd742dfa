import { JwtService } from '@nestjs/jwt';
import { jwtKey } from './jwt-key';

/** Through @nestjs/jwt configured as AuthModule configures it (a key provider), against a plain string secret. */
describe('jwtKey', () => {
  const secret = 'a-secret-of-at-least-thirty-two-characters-ünïcødé';
  const payload = { sub: 'user-1', email: 'a@example.com', iat: 1_700_000_000 };
  const withKey = (text: string) => {
    const key = jwtKey(text);
    return new JwtService({
      secretOrKeyProvider: () => key,
      signOptions: { algorithm: 'HS256' },
      verifyOptions: { algorithms: ['HS256'] },
    });
  };
  const withString = new JwtService({ secret, signOptions: { algorithm: 'HS256' }, verifyOptions: { algorithms: ['HS256'] } });

  it('signs exactly as the plain secret string does', () => {
    expect(withKey(secret).sign(payload)).toBe(withString.sign(payload));
  });

  it('verifies tokens signed with the string, and refuses other secrets', () => {
    const token = withString.sign(payload);
    expect(withKey(secret).verify<{ sub: string }>(token)).toMatchObject({ sub: 'user-1' });
    expect(() => withKey(`${secret}x`).verify<{ sub: string }>(token)).toThrow('invalid signature');
  });

  it('is made once per secret', () => {
    expect(jwtKey(secret)).toBe(jwtKey(secret));
  });
});
