import { adminCli } from './support/admin-cli';
import { ApiClient } from './support/client';
import { media } from './support/media';
import { TestStack } from './support/stack';

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

describe('JSON bodies', () => {
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

  it('answers malformed JSON with 400 and oversized JSON with 413, in the error shape, on every route', async () => {
    const all = await routes();
    expect(all.length).toBeGreaterThanOrEqual(8);
    const oversized = JSON.stringify({ email: 'a'.repeat(200_000) });
    const failures: string[] = [];
    for (const { method, path } of all) {
      for (const [body, status] of [
        ['{"email": ', 400],
        [oversized, 413],
      ] as const) {
        const response = await fetch(stack.baseUrl + path, {
          method,
          headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
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
});
