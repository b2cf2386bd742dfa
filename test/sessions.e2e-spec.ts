import { randomBytes } from 'node:crypto';
import type { AuthResult } from '@app/shared';
import { request } from './support/client';
import { StatusSocket } from './support/sockets';
import { TestStack } from './support/stack';

jest.setTimeout(180_000);

const COOKIE = 'thumbs_refresh';

interface Answer {
  status: number;
  body: AuthResult;
  /** The refresh token the answer set ('' when it cleared the cookie), undefined when it set none. */
  token?: string;
  setCookie?: string;
}

/**
 * Refresh sessions against the built api on real SQLite and Redis: the HttpOnly cookie set by
 * register and login, rotation on every refresh, reuse of a rotated token ending the whole
 * session (and only that one), concurrent refreshes, logout.
 */
describe('refresh sessions (built api, SQLite, Redis)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 0 });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  async function call(path: string, options: { token?: string; json?: unknown } = {}): Promise<Answer> {
    const headers: Record<string, string> = options.token === undefined ? {} : { cookie: `${COOKIE}=${options.token}` };
    const response = await request<AuthResult>(stack.baseUrl, 'POST', path, { json: options.json ?? {}, headers });
    const setCookie = response.headers.getSetCookie().find((line) => line.startsWith(`${COOKIE}=`));
    const token = setCookie === undefined ? undefined : decodeURIComponent(setCookie.slice(COOKIE.length + 1).split(';')[0]);
    return { status: response.status, body: response.body, token, setCookie };
  }

  const credentials = () => ({ email: `s-${randomBytes(6).toString('hex')}@example.com`, password: 'correct horse battery' });

  async function me(accessToken: string): Promise<number> {
    return (await request(stack.baseUrl, 'GET', '/api/auth/me', { headers: { authorization: `Bearer ${accessToken}` } })).status;
  }

  it('register and login set an HttpOnly, SameSite=Strict refresh cookie scoped to /api/auth, for REFRESH_TTL (30 days)', async () => {
    const who = credentials();
    for (const answer of [await call('/api/auth/register', { json: who }), await call('/api/auth/login', { json: who })]) {
      expect([200, 201]).toContain(answer.status);
      expect(answer.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const attributes = answer.setCookie!.split(';').map((part) => part.trim().toLowerCase());
      expect(attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=strict', 'path=/api/auth']));
      // NODE_ENV=test: not Secure (plain http here); production adds Secure.
      expect(attributes).not.toContain('secure');
      const expires = Date.parse(attributes.find((part) => part.startsWith('expires='))!.slice('expires='.length));
      expect(Math.abs(expires - (Date.now() + 30 * 24 * 3600 * 1000))).toBeLessThan(5 * 60 * 1000);
    }
    // A failed login sets nothing.
    const failed = await call('/api/auth/login', { json: { ...who, password: 'wrong password!' } });
    expect(failed.status).toBe(401);
    expect(failed.token).toBeUndefined();
  });

  it('refresh answers the login shape and rotates the token; each new access token works', async () => {
    const who = credentials();
    const registered = await call('/api/auth/register', { json: who });
    let token = registered.token!;
    const seen = new Set([token]);
    for (let i = 0; i < 3; i += 1) {
      const refreshed = await call('/api/auth/refresh', { token });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body).toEqual({
        accessToken: expect.any(String),
        expiresIn: 3600,
        user: { id: registered.body.user.id, email: who.email, createdAt: registered.body.user.createdAt },
      });
      expect(await me(refreshed.body.accessToken)).toBe(200);
      expect(refreshed.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(seen.has(refreshed.token!)).toBe(false);
      seen.add(refreshed.token!);
      token = refreshed.token!;
    }
  });

  it('reusing a rotated token revokes the whole chain (401, cookie cleared), and only that chain', async () => {
    const who = credentials();
    const first = (await call('/api/auth/register', { json: who })).token!;
    const otherSession = (await call('/api/auth/login', { json: who })).token!;
    const second = (await call('/api/auth/refresh', { token: first })).token!;
    const third = (await call('/api/auth/refresh', { token: second })).token!;

    // `first` was exchanged already: someone else holds the chain.
    const reuse = await call('/api/auth/refresh', { token: first });
    expect(reuse.status).toBe(401);
    expect(reuse.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.any(String) });
    expect(reuse.token).toBe('');
    // The newest token of that chain, never used, is dead too.
    expect((await call('/api/auth/refresh', { token: third })).status).toBe(401);
    expect((await call('/api/auth/refresh', { token: second })).status).toBe(401);
    // The user's other sign-in is untouched.
    expect((await call('/api/auth/refresh', { token: otherSession })).status).toBe(200);
  });

  it("access tokens end with their session: a sign-out or a reuse stops them, and closes that session's sockets", async () => {
    const who = credentials();
    const signIn = await call('/api/auth/register', { json: who });
    const other = await call('/api/auth/login', { json: who });
    const refreshed = await call('/api/auth/refresh', { token: signIn.token });
    expect(await me(signIn.body.accessToken)).toBe(200);
    expect(await me(refreshed.body.accessToken)).toBe(200);
    const socket = await StatusSocket.connect(stack.baseUrl, refreshed.body.accessToken);
    const otherSocket = await StatusSocket.connect(stack.baseUrl, other.body.accessToken);
    const closed = new Promise<string>((resolve) => socket.socket.once('disconnect', (reason) => resolve(reason)));

    expect((await call('/api/auth/logout', { token: refreshed.token })).status).toBe(204);
    // Every access token of that sign-in, the first and the refreshed one, stops at once.
    expect(await me(signIn.body.accessToken)).toBe(401);
    expect(await me(refreshed.body.accessToken)).toBe(401);
    await expect(closed).resolves.toBe('io server disconnect');
    await expect(StatusSocket.connect(stack.baseUrl, refreshed.body.accessToken)).rejects.toThrow('unauthorized');
    // The user's other sign-in goes on.
    expect(await me(other.body.accessToken)).toBe(200);
    expect(otherSocket.socket.connected).toBe(true);
    otherSocket.close();

    // A refresh token reused: the thief's access token from it stops too.
    const victim = await call('/api/auth/login', { json: who });
    const thief = await call('/api/auth/refresh', { token: victim.token });
    expect(await me(thief.body.accessToken)).toBe(200);
    expect((await call('/api/auth/refresh', { token: victim.token })).status).toBe(401);
    expect(await me(thief.body.accessToken)).toBe(401);
  });

  it('two refreshes racing with one token: exactly one wins, the other counts as a reuse', async () => {
    const token = (await call('/api/auth/register', { json: credentials() })).token!;
    const answers = await Promise.all([1, 2, 3].map(() => call('/api/auth/refresh', { token })));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([200, 401, 401]);
    // The reuse revoked the chain, including the winner's new token.
    const winner = answers.find((answer) => answer.status === 200)!;
    expect((await call('/api/auth/refresh', { token: winner.token })).status).toBe(401);
  });

  it('logout revokes the session and clears the cookie (204); refresh then fails', async () => {
    const who = credentials();
    const token = (await call('/api/auth/register', { json: who })).token!;
    const next = (await call('/api/auth/refresh', { token })).token!;
    const logout = await call('/api/auth/logout', { token: next });
    expect(logout.status).toBe(204);
    expect(logout.token).toBe('');
    expect(logout.setCookie).toMatch(/Expires=Thu, 01 Jan 1970/);
    expect((await call('/api/auth/refresh', { token: next })).status).toBe(401);
    // Without a cookie, or with a stale one, logout still answers 204.
    expect((await call('/api/auth/logout')).status).toBe(204);
    expect((await call('/api/auth/logout', { token: next })).status).toBe(204);
  });

  it('refresh without a cookie, or with an unknown or malformed one, is 401 (never 400/500)', async () => {
    for (const token of [undefined, '', 'garbage', randomBytes(32).toString('base64url'), 'x'.repeat(5000), '%E0%A4%A']) {
      const answer = await call('/api/auth/refresh', { token });
      expect(answer.status).toBe(401);
      expect(answer.body.accessToken).toBeUndefined();
    }
  });

  it('an expired refresh token is refused (the api restarted with REFRESH_TTL=2s)', async () => {
    await stack.api!.stop();
    await stack.startApi({ REFRESH_TTL: '2s' });
    const token = (await call('/api/auth/register', { json: credentials() })).token!;
    const next = await call('/api/auth/refresh', { token });
    expect(next.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect((await call('/api/auth/refresh', { token: next.token })).status).toBe(401);
  });
});
