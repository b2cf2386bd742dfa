import { adminCli } from './support/admin-cli';
import { ChildApp } from './support/child-app';
import { ApiClient, request } from './support/client';
import { media } from './support/media';
import { rawRequest } from './support/raw-upload';
import { freePort, TestStack } from './support/stack';

jest.setTimeout(180_000);

/**
 * The holes found when the service was attacked (issue 10), each tried again against the built api
 * as a child process, real SQLite and Redis, over real HTTP.
 */
describe('operators are made on the server only', () => {
  let stack: TestStack;

  beforeAll(async () => {
    // ADMIN_EMAILS named operators before; set it to prove that nothing reads it any more.
    stack = await TestStack.start({ workers: 0, env: { ADMIN_EMAILS: 'ops@example.com' } });
  });
  afterAll(() => stack?.stop());

  const dashboard = (headers: Record<string, string>, path = '') => fetch(`${stack.baseUrl}/api/admin/queues${path}`, { headers });

  it('grants nothing for registering an email, whatever the config names; `npm run admin -- grant` does, `revoke` undoes it', async () => {
    const ops = await ApiClient.register(stack.baseUrl, 'Ops@Example.com');
    expect((await dashboard({ authorization: `Bearer ${ops.token}` })).status).toBe(404);
    expect((await ops.request('GET', '/api/admin/session')).status).toBe(404);
    expect((await ops.request('POST', '/api/admin/session')).status).toBe(404);

    const granted = await adminCli(stack.env, 'grant', ' OPS@example.com ');
    expect(granted).toMatchObject({ code: 0, stdout: expect.stringContaining('ops@example.com is now an operator') });
    // The same token: the role is read from the database on each request.
    expect((await dashboard({ authorization: `Bearer ${ops.token}` })).status).toBe(200);
    expect((await ops.request('GET', '/api/admin/session')).status).toBe(204);
    expect((await adminCli(stack.env, 'list')).stdout.trim().split('\n')).toEqual(['ops@example.com']);

    expect(await adminCli(stack.env, 'revoke', 'ops@example.com')).toMatchObject({ code: 0 });
    expect((await dashboard({ authorization: `Bearer ${ops.token}` })).status).toBe(404);
    expect((await adminCli(stack.env, 'list')).stdout).toBe('');
  });

  it('refuses to grant an email nobody registered, and says how it is used', async () => {
    const unknown = await adminCli(stack.env, 'grant', 'nobody@example.com');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No account is registered with nobody@example.com/);
    const usage = await adminCli(stack.env, 'promote');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/grant <email>/);
  });

  it("shows operators the queue but no user's file names", async () => {
    const admin = await ApiClient.register(stack.baseUrl);
    expect((await adminCli(stack.env, 'grant', admin.user.email)).code).toBe(0);
    const user = await ApiClient.register(stack.baseUrl);
    const photo = await media.jpeg();
    const [job] = await user.uploadOk([{ ...photo, name: 'private-holiday-photo-7f3a.jpg' }]);

    const response = await dashboard({ authorization: `Bearer ${admin.token}` }, '/api/queues?activeQueue=thumbnails&status=waiting');
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain(job.id); // the job is listed…
    expect(text).not.toContain('private-holiday-photo'); // …without its name
  });
});

describe('malformed requests', () => {
  let stack: TestStack;
  let admin: ApiClient;

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 0 });
    admin = await ApiClient.register(stack.baseUrl);
    expect((await adminCli(stack.env, 'grant', admin.user.email)).code).toBe(0);
  });
  afterAll(() => stack?.stop());

  /** Every documented route (path parameters filled in), and the queue dashboard's own API. */
  async function routes(): Promise<{ method: string; path: string }[]> {
    const doc = (await (await fetch(`${stack.baseUrl}/api/docs-json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.keys(operations)
        .filter((method) => ['post', 'put', 'patch', 'delete'].includes(method))
        .map((method) => ({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, '0f8fad5b-d9cb-469f-a165-70867728950e') })),
    );
    return [
      ...documented,
      { method: 'PUT', path: '/api/admin/queues/api/queues/thumbnails/pause' },
      { method: 'POST', path: '/api/admin/queues/api/queues/thumbnails/add' },
    ];
  }

  it('answers malformed, too deeply nested or form-encoded bodies with 400 and oversized JSON with 413, in the error shape, on every route', async () => {
    const all = await routes();
    expect(all.length).toBeGreaterThanOrEqual(8);
    const oversized = JSON.stringify({ email: 'a'.repeat(200_000) });
    const failures: string[] = [];
    for (const { method, path } of all) {
      for (const [body, status, type] of [
        ['{"email": ', 400, 'application/json'],
        [oversized, 413, 'application/json'],
        // Deeper than MAX_JSON_DEPTH (2,000 levels overflowed the validator's stack: a 500).
        [`{"email":${'['.repeat(2000)}${']'.repeat(2000)}}`, 400, 'application/json'],
        // A form, which another site can make a browser send without asking.
        ['email=a%40example.com&password=x', 400, 'application/x-www-form-urlencoded'],
      ] as const) {
        const response = await fetch(stack.baseUrl + path, {
          method,
          headers: { authorization: `Bearer ${admin.token}`, 'content-type': type },
          body,
        });
        const text = await response.text();
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
        const error = parsed as { statusCode?: unknown; error?: unknown; message?: unknown };
        const shaped =
          error?.statusCode === status &&
          error.error === (status === 400 ? 'Bad Request' : 'Payload Too Large') &&
          typeof error.message === 'string';
        if (response.status !== status || !shaped) failures.push(`${method} ${path}: ${response.status} ${text.slice(0, 120)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('answers what Node refuses before the app sees it in the error shape too: headers over 16 kB (431), a request that is not HTTP (400)', async () => {
    const long = await rawRequest(stack.baseUrl, 'GET', `/api/jobs?q=${'x'.repeat(20_000)}`, {}, () => Promise.resolve());
    expect(long.status).toBe(431);
    expect(long.body).toEqual({ statusCode: 431, error: 'Request Header Fields Too Large', message: expect.stringMatching(/too large/) });
    const garbage = await rawRequest(stack.baseUrl, 'NOT A METHOD', '/', {}, () => Promise.resolve());
    expect(garbage.status).toBe(400);
    expect(garbage.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'The request is not valid HTTP.' });
    // The server goes on.
    expect((await fetch(`${stack.baseUrl}/api/health/live`)).status).toBe(200);
  });
});

describe('failed sign-ins', () => {
  let stack: TestStack;

  beforeAll(async () => {
    // Behind a proxy on loopback: X-Forwarded-For names the client, so one test plays many addresses.
    stack = await TestStack.start({ workers: 0, env: { TRUST_PROXY: 'loopback' } });
  });
  afterAll(() => stack?.stop());

  const login = async (email: string, password: string, from: string) => {
    const started = performance.now();
    const response = await fetch(`${stack.baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
      body: JSON.stringify({ email, password }),
    });
    const body = (await response.json()) as { message?: string; accessToken?: string };
    return {
      status: response.status,
      message: body.message,
      retryAfter: response.headers.get('retry-after'),
      ms: performance.now() - started,
    };
  };

  it("locks out only the address that guessed, never the owner's, for known and unknown emails alike", async () => {
    const owner = await ApiClient.register(stack.baseUrl, undefined, 'the right password');
    for (const email of [owner.user.email, `ghost-${Date.now()}@example.com`]) {
      const guesses = [];
      for (let i = 0; i < 5; i += 1) guesses.push(await login(email, `guess ${i}`, '203.0.113.7'));
      expect(guesses.map((guess) => [guess.status, guess.message])).toEqual(Array(5).fill([401, 'Invalid email or password']));
      const locked = await login(email, 'the right password', '203.0.113.7');
      expect(locked.status).toBe(429);
      expect(Number(locked.retryAfter)).toBeGreaterThan(0);
      expect(locked.message).toMatch(/Too many failed sign-in attempts/);
    }
    // The owner, from their own address, signs in.
    expect((await login(owner.user.email, 'the right password', '198.51.100.20')).status).toBe(200);
  });

  it('holds the limit for guesses sent all at once (counted before the password is checked, not after)', async () => {
    const owner = await ApiClient.register(stack.baseUrl, undefined, 'the right password');
    const guesses = await Promise.all(Array.from({ length: 20 }, (_, i) => login(owner.user.email, `guess ${i}`, '203.0.113.9')));
    const statuses = guesses.map((guess) => guess.status).sort();
    expect(statuses).toEqual([...Array(5).fill(401), ...Array(15).fill(429)]);
    // The owner, from their own address, signs in.
    expect((await login(owner.user.email, 'the right password', '198.51.100.21')).status).toBe(200);
  });

  it('slows guessing one email from many addresses, more with each failure, unknown emails the same', async () => {
    const owner = await ApiClient.register(stack.baseUrl, undefined, 'the right password');
    for (const email of [owner.user.email, `nobody-${Date.now()}@example.com`]) {
      // 10 failures from two addresses (5 each: both now locked out, the email is not).
      for (const from of ['192.0.2.1', '192.0.2.2'])
        for (let i = 0; i < 5; i += 1) expect((await login(email, `guess ${i}`, from)).status).toBe(401);
      const afterTen = await login(email, email === owner.user.email ? 'the right password' : 'a guess', '192.0.2.3');
      expect(afterTen.status).toBe(email === owner.user.email ? 200 : 401);
      expect(afterTen.ms).toBeGreaterThanOrEqual(480); // the first wait: 0.5 s
      expect((await login(email, 'one more guess', '192.0.2.4')).status).toBe(401);
      expect((await login(email, 'and another', '192.0.2.5')).ms).toBeGreaterThanOrEqual(980); // doubled: 1 s
      const later = await login(email, 'still guessing', '192.0.2.6');
      expect(later).toMatchObject({ status: 401, message: 'Invalid email or password' });
      expect(later.ms).toBeGreaterThanOrEqual(1980); // 2 s
    }
  });
});

describe('passwords past 72 bytes', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 0 });
  });
  afterAll(() => stack?.stop());

  it('are refused at sign-in with the same 401, though bcrypt would read only their first 72 bytes', async () => {
    for (const password of ['p'.repeat(72), 'é'.repeat(36)]) {
      const owner = await ApiClient.register(stack.baseUrl, undefined, password);
      const login = (attempt: string) =>
        request<{ message: string }>(stack.baseUrl, 'POST', '/api/auth/login', { json: { email: owner.user.email, password: attempt } });
      expect((await login(password)).status).toBe(200);
      for (const longer of [`${password}x`, `${password} and anything at all`]) {
        expect(await login(longer)).toMatchObject({
          status: 401,
          body: { statusCode: 401, error: 'Unauthorized', message: 'Invalid email or password' },
        });
      }
      // Registration refuses them (400), so none of them could be anyone's password.
      const register = await request(stack.baseUrl, 'POST', '/api/auth/register', {
        json: { email: `x${owner.user.email}`, password: `${password}x` },
      });
      expect(register.status).toBe(400);
    }
  });
});

describe('registration', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 0 });
  });
  afterAll(() => stack?.stop());

  it('refuses emails with bidi controls or invisible characters (400), and takes plain and international ones', async () => {
    const tricks = [
      'ad\u202Emoc.elpmaxe@example.com', // RIGHT-TO-LEFT OVERRIDE
      'ad\u2066min@example.com', // LEFT-TO-RIGHT ISOLATE
      'ad\u200Bmin@example.com', // ZERO WIDTH SPACE
      'ad\u200Dmin@example.com', // ZERO WIDTH JOINER
      'ad\u2060min@example.com', // WORD JOINER
      'ad\uFEFFmin@example.com', // BOM (a leading one is trimmed like a space)
      'ad\u00ADmin@example.com', // SOFT HYPHEN
      'ad\u3164min@example.com', // HANGUL FILLER
      'admin@exam\u200Eple.com', // LEFT-TO-RIGHT MARK in the domain
    ];
    const accepted: string[] = [];
    for (const email of tricks) {
      const response = await request<{ message: string[] }>(stack.baseUrl, 'POST', '/api/auth/register', {
        json: { email, password: 'correct horse battery' },
      });
      if (response.status !== 400) accepted.push(`${JSON.stringify(email)}: ${response.status}`);
      else expect(response.body.message).toContain('email must not contain invisible or text-direction characters');
    }
    expect(accepted).toEqual([]);
    for (const email of [`plain-${Date.now()}@example.com`, `zoë-${Date.now()}@exämple.de`]) {
      expect(
        (await request(stack.baseUrl, 'POST', '/api/auth/register', { json: { email, password: 'correct horse battery' } })).status,
      ).toBe(201);
    }
  });
});

describe('in production', () => {
  const production = { NODE_ENV: 'production', JWT_SECRET: 'a-production-secret-of-at-least-32-characters' };

  it('refuses to start the api (and a worker) without METRICS_TOKEN or METRICS_PUBLIC=true, saying so', async () => {
    const stack = await TestStack.start({ workers: 0, noApi: true });
    try {
      for (const name of ['api', 'worker'] as const) {
        const app = new ChildApp(name, { ...stack.env, ...production });
        expect((await app.exited).code).toBe(1);
        expect(app.tail()).toMatch(/METRICS_TOKEN is required when NODE_ENV=production.*METRICS_PUBLIC=true/s);
      }
    } finally {
      await stack.stop();
    }
  });

  it('asks for METRICS_TOKEN at /metrics of the api and the worker, and marks the admin cookie Secure even over plain HTTP', async () => {
    const workerPort = await freePort();
    const stack = await TestStack.start({
      workers: 1,
      env: { ...production, METRICS_TOKEN: 'scrape-token-1', WORKER_METRICS_PORT: String(workerPort) },
    });
    try {
      for (const url of [`${stack.baseUrl}/metrics`, `http://127.0.0.1:${workerPort}/metrics`]) {
        expect((await fetch(url)).status).toBe(404);
        expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token' } })).status).toBe(404);
        const scraped = await fetch(url, { headers: { authorization: 'Bearer scrape-token-1' } });
        expect(scraped.status).toBe(200);
        expect(await scraped.text()).toMatch(/^# HELP /m);
      }
      const admin = await ApiClient.register(stack.baseUrl);
      expect((await adminCli({ ...stack.env }, 'grant', admin.user.email)).code).toBe(0);
      const session = await admin.request('POST', '/api/admin/session');
      expect(session.status).toBe(204);
      expect(session.headers.get('set-cookie')).toMatch(/^thumbs_admin=[^;]+;.*; Secure(;|$)/);
    } finally {
      await stack.stop();
    }
  });

  it('serves /metrics to anyone with METRICS_PUBLIC=true, a choice made on purpose', async () => {
    const stack = await TestStack.start({ workers: 0, env: { ...production, METRICS_PUBLIC: 'true' } });
    try {
      expect((await fetch(`${stack.baseUrl}/metrics`)).status).toBe(200);
    } finally {
      await stack.stop();
    }
  });
});

describe('stored file names', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 0 });
  });
  afterAll(() => stack?.stop());

  it('turn line and paragraph separators into spaces and lose invisible and direction-changing characters', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const photo = await media.jpeg();
    const [job] = await user.uploadOk([
      { ...photo, name: 'line\u2028paragraph\u2029next\u0085line in\u200bvis\ufeffi\u00adble\u061c\u202egpj.jpg' },
    ]);
    expect(job.originalFilename).toBe('line paragraph next line invisiblegpj.jpg');
    expect((await user.job(job.id)).body.originalFilename).toBe('line paragraph next line invisiblegpj.jpg');
  });
});
