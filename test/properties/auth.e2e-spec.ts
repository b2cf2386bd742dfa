import * as bcrypt from 'bcryptjs';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import * as path from 'node:path';
import { AuthService, DEFAULT_LOGIN_LIMITS, INVALID_CREDENTIALS, LoginThrottle } from '@app/auth';
import type { AuthResult, UserView } from '@app/shared';
import { request } from '../support/client';
import { InProcessApi, startInProcessApi } from '../support/in-process';

jest.setTimeout(180_000);

/** Valid credentials: addresses of various shapes (normalised by the api), passwords of 8–72 bytes, any script. */
const credentials = fc.record({
  local: fc.stringMatching(/^[a-z0-9]{1,8}([._+-][a-z0-9]{1,6}){0,2}$/),
  domain: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]\.(com|org|io|de)$/),
  upper: fc.boolean(),
  password: fc.string({ unit: 'grapheme', minLength: 8, maxLength: 24 }).filter((p) => p.length >= 8 && Buffer.byteLength(p) <= 72),
});

let sequence = 0;
function emailOf(c: { local: string; domain: string; upper: boolean }): string {
  sequence += 1;
  const email = `${c.local}.${sequence}@${c.domain}`;
  return c.upper ? `  ${email.toUpperCase()} ` : email;
}

describe('authentication properties (real api, SQLite, Redis)', () => {
  let api: InProcessApi;
  let db: Database.Database;

  beforeAll(async () => {
    api = await startInProcessApi();
    db = new Database(path.join(api.dir, 'thumbs.db'), { readonly: true });
    // Property 4 makes hundreds of failed logins from one address on purpose (the rate-limit test restores the defaults).
    api.app.get(LoginThrottle).limits = {
      ...DEFAULT_LOGIN_LIMITS,
      perEmailAndAddress: 1000,
      perEmail: 1000,
      perEmailDelayAfter: 1000,
      perAddress: 100_000,
      windowSeconds: 60,
    };
  });

  afterAll(async () => {
    db?.close();
    await api?.close();
  });

  // Feature: thumbnail-generation-system, Property 1: the stored password is a hash, never the plaintext.
  it('Property 1: password hashing invariant (Requirements 1.1)', async () => {
    await fc.assert(
      fc.asyncProperty(credentials, async (c) => {
        const email = emailOf(c);
        const res = await request<AuthResult>(api.baseUrl, 'POST', '/api/auth/register', { json: { email, password: c.password } });
        expect(res.status).toBe(201);
        expect(res.body.user.email).toBe(email.trim().toLowerCase());
        const row = db.prepare('SELECT * FROM users WHERE id = ?').get(res.body.user.id) as { password_hash: string };
        expect(row.password_hash).not.toBe(c.password);
        expect(row.password_hash).not.toContain(c.password);
        expect(row.password_hash).toMatch(/^\$2[aby]\$(1[0-9])\$/);
        expect(bcrypt.getRounds(row.password_hash)).toBeGreaterThanOrEqual(10);
        expect(await bcrypt.compare(c.password, row.password_hash)).toBe(true);
        expect(JSON.stringify(res.body)).not.toContain(c.password);
      }),
      { numRuns: 100 },
    );
  });

  // Feature: thumbnail-generation-system, Property 2: login returns a JWT that identifies the user.
  it('Property 2: JWT token issuance (Requirements 1.2)', async () => {
    await fc.assert(
      fc.asyncProperty(credentials, async (c) => {
        const email = emailOf(c);
        const registered = await request<AuthResult>(api.baseUrl, 'POST', '/api/auth/register', { json: { email, password: c.password } });
        // Any casing and surrounding spaces of the email sign in to the same account.
        const login = await request<AuthResult>(api.baseUrl, 'POST', '/api/auth/login', {
          json: { email: ` ${email.trim().toUpperCase()}`, password: c.password },
        });
        expect(login.status).toBe(200);
        expect(login.body.expiresIn).toBe(3600);
        const [, payload] = login.body.accessToken.split('.');
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as {
          sub: string;
          email: string;
          sid: string;
          exp: number;
          iat: number;
        };
        expect(claims.sub).toBe(registered.body.user.id);
        expect(claims.exp - claims.iat).toBe(3600);
        // The sign-in's own session, not the registration's.
        const registeredSid = (
          JSON.parse(Buffer.from(registered.body.accessToken.split('.')[1], 'base64url').toString()) as { sid: string }
        ).sid;
        expect(claims.sid).toMatch(/^[0-9a-f-]{36}$/);
        expect(claims.sid).not.toBe(registeredSid);
        const identified = await api.app.get(AuthService).verifyToken(login.body.accessToken);
        expect(identified).toEqual({ id: registered.body.user.id, email: registered.body.user.email, role: 'user', sessionId: claims.sid });
      }),
      { numRuns: 100 },
    );
  });

  // Feature: thumbnail-generation-system, Property 3: a valid token authorises the request and identifies the user.
  it('Property 3: token authorization (Requirements 1.3)', async () => {
    const users: AuthResult[] = [];
    for (let i = 0; i < 5; i += 1) {
      users.push(
        (
          await request<AuthResult>(api.baseUrl, 'POST', '/api/auth/register', {
            json: { email: `p3-${i}-${Date.now()}@example.com`, password: 'password-p3' },
          })
        ).body,
      );
    }
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...users),
        fc.constantFrom('/api/auth/me', '/api/jobs', '/api/jobs?limit=1'),
        async (user, route) => {
          const res = await request<UserView | { items: unknown[] }>(api.baseUrl, 'GET', route, {
            headers: { authorization: `Bearer ${user.accessToken}` },
          });
          expect(res.status).toBe(200);
          if (route === '/api/auth/me') expect(res.body).toEqual(user.user);
        },
      ),
      { numRuns: 100 },
    );
    // And anything that is not a valid token is refused.
    const forged = await api.app.get(AuthService).verifyToken(users[0].accessToken.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
    expect(forged).toBeNull();
    for (const header of ['', 'Bearer', 'Bearer x.y.z', `Basic ${users[0].accessToken}`, `Bearer ${users[0].accessToken}x`]) {
      expect((await request(api.baseUrl, 'GET', '/api/auth/me', { headers: header ? { authorization: header } : {} })).status).toBe(401);
    }
  });

  // Feature: thumbnail-generation-system, Property 4: wrong passwords and unknown emails are rejected alike.
  it('Property 4: invalid credentials rejection (Requirements 1.4)', async () => {
    const known = { email: `p4-${Date.now()}@example.com`, password: 'the-right-password' };
    await request(api.baseUrl, 'POST', '/api/auth/register', { json: known });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({
            email: fc.constant(known.email),
            password: fc.string({ minLength: 1, maxLength: 40 }).filter((p) => p !== known.password),
          }),
          fc.record({ email: fc.emailAddress().map((e) => `nobody.${e}`), password: fc.string({ minLength: 1, maxLength: 40 }) }),
        ),
        async (attempt) => {
          const res = await request<{ statusCode: number; message: string; accessToken?: string }>(api.baseUrl, 'POST', '/api/auth/login', {
            json: attempt,
          });
          expect(res.status).toBe(401);
          expect(res.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: INVALID_CREDENTIALS });
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('authentication edges', () => {
  let api: InProcessApi;

  beforeAll(async () => {
    api = await startInProcessApi();
  });

  afterAll(async () => {
    await api?.close();
  });

  it('rejects a taken email (any casing) with 409 and bad fields with 400', async () => {
    const email = `taken-${Date.now()}@example.com`;
    expect((await request(api.baseUrl, 'POST', '/api/auth/register', { json: { email, password: 'password1' } })).status).toBe(201);
    const again = await request<{ message: string }>(api.baseUrl, 'POST', '/api/auth/register', {
      json: { email: email.toUpperCase(), password: 'password2' },
    });
    expect(again.status).toBe(409);
    for (const body of [
      { email: 'not-an-email', password: 'password1' },
      { email: `short-${Date.now()}@example.com`, password: 'short' },
      { email: `long-${Date.now()}@example.com`, password: 'é'.repeat(37) }, // 74 bytes
      { email: `extra-${Date.now()}@example.com`, password: 'password1', admin: true },
      { email: `x-${Date.now()}@example.com` },
    ]) {
      const res = await request<{ statusCode: number; message: string[] }>(api.baseUrl, 'POST', '/api/auth/register', { json: body });
      expect(res.status).toBe(400);
      expect(Array.isArray(res.body.message)).toBe(true);
    }
  });

  it('rejects NoSQL operator payloads by validation', async () => {
    for (const body of [
      { email: { $gt: '' }, password: 'x' },
      { email: 'a@b.io', password: { $ne: null } },
      { email: ['a@b.io'], password: 'password1' },
    ]) {
      expect((await request(api.baseUrl, 'POST', '/api/auth/login', { json: body })).status).toBe(400);
      expect((await request(api.baseUrl, 'POST', '/api/auth/register', { json: body })).status).toBe(400);
    }
  });

  it('rate limits repeated failed logins per email with 429 and Retry-After, for unknown emails too', async () => {
    api.app.get(LoginThrottle).limits = DEFAULT_LOGIN_LIMITS;
    for (const email of [`victim-${Date.now()}@example.com`, `ghost-${Date.now()}@example.com`]) {
      if (email.startsWith('victim'))
        await request(api.baseUrl, 'POST', '/api/auth/register', { json: { email, password: 'right-password' } });
      const statuses: number[] = [];
      for (let i = 0; i < 7; i += 1)
        statuses.push((await request(api.baseUrl, 'POST', '/api/auth/login', { json: { email, password: 'wrong-password' } })).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
      const limited = await request<{ message: string }>(api.baseUrl, 'POST', '/api/auth/login', {
        json: { email, password: 'right-password' },
      });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(limited.body.message).toMatch(/Too many failed sign-in attempts/);
    }
  });

  it('answers an unknown email as slowly as a wrong password (no enumeration by timing)', async () => {
    const email = `timing-${Date.now()}@example.com`;
    await request(api.baseUrl, 'POST', '/api/auth/register', { json: { email, password: 'right-password' } });
    const time = async (body: object) => {
      const started = process.hrtime.bigint();
      await request(api.baseUrl, 'POST', '/api/auth/login', { json: body });
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      known.push(await time({ email, password: `wrong-${i}` }));
      unknown.push(await time({ email: `nobody-${i}-${Date.now()}@example.com`, password: 'wrong' }));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    // Both pay for a bcrypt comparison: the unknown email is not answered in a fraction of the time.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.5);
  });
});
