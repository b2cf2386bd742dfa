import * as fs from 'node:fs';
import * as path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import type { JobPage, JobView } from '@app/shared';
import { ApiClient } from './support/client';
import { media } from './support/media';
import { TestStack } from './support/stack';

jest.setTimeout(180_000);

/**
 * The library API of the contract (trash, search/sort/type with cursor pages, stats, bulk
 * actions, zip archives) through the built api and a built worker, on real Redis, SQLite and
 * local disk, over HTTP.
 */
describe('library (api + worker, Redis, SQLite)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 1 });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const files = () => path.join(stack.dir, 'files');
  const ids = (page: { body: JobPage }) => page.body.items.map((job) => job.id);

  it('documents every library route and list parameter in the OpenAPI document (the web app turns its features on from it)', async () => {
    const document = (await (await fetch(`${stack.baseUrl}/api/docs-json`)).json()) as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
    };
    expect(document.paths['/api/jobs/stats']?.get).toBeDefined();
    expect(document.paths['/api/jobs/bulk']?.post).toBeDefined();
    expect(document.paths['/api/jobs/{id}/restore']?.post).toBeDefined();
    expect(document.paths['/api/archives']?.post).toBeDefined();
    expect(document.paths['/api/jobs/{id}']?.delete.parameters?.map((parameter) => parameter.name)).toContain('permanent');
    const listParameters = document.paths['/api/jobs'].get
      .parameters!.filter((parameter) => parameter.in === 'query')
      .map((parameter) => parameter.name);
    expect(listParameters).toEqual(expect.arrayContaining(['status', 'type', 'q', 'sort', 'trashed', 'cursor', 'limit']));
  });

  describe('trash', () => {
    it('moves a job to the trash and back: out of the library, listed in the trash, files kept, restorable', async () => {
      const alice = await ApiClient.register(stack.baseUrl);
      const [a, b] = await alice.uploadOk([await media.jpeg(), await media.jpeg(200, 100)]);
      await alice.waitFor(a.id);
      const done = await alice.waitFor(b.id);

      expect((await alice.remove(b.id)).status).toBe(204);
      expect(ids(await alice.list())).toEqual([a.id]);
      const trash = await alice.list('?trashed=true');
      expect(trash.status).toBe(200);
      expect(ids(trash)).toEqual([b.id]);
      expect(trash.body.items[0].deletedAt).not.toBeNull();
      expect(ids(await alice.list('?trashed=false'))).toEqual([a.id]);
      const trashed = (await alice.job(b.id)).body;
      expect(trashed.deletedAt).not.toBeNull();
      // Its files stay (it can come back), and its thumbnail still opens for its owner.
      expect(fs.existsSync(path.join(files(), 'uploads', b.id))).toBe(true);
      expect(fs.existsSync(path.join(files(), 'processed', b.id, 'thumb.jpg'))).toBe(true);
      expect((await alice.fetchBytes(done.thumbnailUrl!)).status).toBe(200);
      // Trashing again changes nothing.
      expect((await alice.remove(b.id)).status).toBe(204);
      expect((await alice.job(b.id)).body.deletedAt).toBe(trashed.deletedAt);

      const restored = await alice.request<JobView>('POST', `/api/jobs/${b.id}/restore`);
      expect(restored.status).toBe(200);
      expect(restored.body).toMatchObject({ id: b.id, status: 'completed', deletedAt: null });
      expect(ids(await alice.list())).toEqual([b.id, a.id]);
      expect(ids(await alice.list('?trashed=true'))).toEqual([]);
      // Restoring a job that is not in the trash answers it as it is.
      expect((await alice.request<JobView>('POST', `/api/jobs/${a.id}/restore`)).body).toMatchObject({ id: a.id, deletedAt: null });
    });

    it('deletes for good with permanent=true: the job and every file it had, from the library or from the trash', async () => {
      const bob = await ApiClient.register(stack.baseUrl);
      const [a, b] = await bob.uploadOk([await media.jpeg(), await media.jpeg()]);
      await bob.waitFor(a.id);
      await bob.waitFor(b.id);
      expect((await bob.remove(b.id)).status).toBe(204);
      for (const job of [a, b]) {
        expect((await bob.request('DELETE', `/api/jobs/${job.id}?permanent=true`)).status).toBe(204);
        expect((await bob.job(job.id)).status).toBe(404);
        expect(fs.existsSync(path.join(files(), 'uploads', job.id))).toBe(false);
        expect(fs.existsSync(path.join(files(), 'processed', job.id))).toBe(false);
        expect((await bob.request('DELETE', `/api/jobs/${job.id}?permanent=true`)).status).toBe(404);
        expect((await bob.request('POST', `/api/jobs/${job.id}/restore`)).status).toBe(404);
      }
      expect(ids(await bob.list('?trashed=true'))).toEqual([]);
    });

    it('lets a job trashed while it waits finish in the trash', async () => {
      const carol = await ApiClient.register(stack.baseUrl);
      const jobs = await carol.uploadOk(await Promise.all([1, 2, 3, 4, 5].map(() => media.jpeg(640, 480))));
      const last = jobs[jobs.length - 1];
      expect(last.status).toBe('queued');
      expect((await carol.remove(last.id)).status).toBe(204);
      const done = await carol.waitFor(last.id);
      expect(done).toMatchObject({ status: 'completed' });
      expect(done.deletedAt).not.toBeNull();
      expect(ids(await carol.list())).not.toContain(last.id);
      expect(ids(await carol.list('?trashed=true'))).toEqual([last.id]);
    });

    it("gives another user 404 for a job's trash and restore, and keeps it out of their trash", async () => {
      const owner = await ApiClient.register(stack.baseUrl);
      const other = await ApiClient.register(stack.baseUrl);
      const [job] = await owner.uploadOk([await media.jpeg()]);
      expect((await other.remove(job.id)).status).toBe(404);
      expect((await other.request('DELETE', `/api/jobs/${job.id}?permanent=true`)).status).toBe(404);
      expect((await owner.remove(job.id)).status).toBe(204);
      expect((await other.request('POST', `/api/jobs/${job.id}/restore`)).status).toBe(404);
      expect(ids(await other.list('?trashed=true'))).toEqual([]);
      expect((await owner.job(job.id)).body.deletedAt).not.toBeNull();
      expect((await owner.request('POST', '/api/jobs/not-an-id/restore')).status).toBe(404);
    });

    it('answers 400 to a trashed or permanent flag that is not true or false', async () => {
      const dave = await ApiClient.register(stack.baseUrl);
      const [job] = await dave.uploadOk([await media.jpeg()]);
      for (const query of ['?trashed=yes', '?trashed=1', '?trashed=', '?trashed=true&trashed=false']) {
        const response = await dave.list(query);
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      }
      expect((await dave.request('DELETE', `/api/jobs/${job.id}?permanent=maybe`)).status).toBe(400);
      expect((await dave.job(job.id)).body.deletedAt).toBeNull();
    });
  });

  describe('search, type filter, sort and cursor pages', () => {
    let frank: ApiClient;
    let jobs: JobView[];

    beforeAll(async () => {
      frank = await ApiClient.register(stack.baseUrl);
      // Ties on purpose: equal names (any case), equal sizes, one request (one createdAt).
      const same = await media.jpeg(64, 64, '#102030');
      const names = ['b.jpg', 'B.JPG', 'a_1.jpg', 'a%1.jpg', 'Été.jpg', 'c.jpg', 'b.jpg'];
      // Every file different (no duplicates), the even ones the same size.
      const uploads = names.map((name, i) => ({
        ...same,
        name,
        data: Buffer.concat([same.data, Buffer.alloc(i % 2 === 0 ? 2 : 2 + i, i)]),
      }));
      jobs = [...(await frank.uploadOk(uploads.slice(0, 4))), ...(await frank.uploadOk(uploads.slice(4)))];
      jobs.push(...(await frank.uploadOk([await media.animatedGif()])));
      for (const job of jobs) await frank.waitFor(job.id);
      expect((await frank.remove(jobs[6].id)).status).toBe(204);
    });

    /** Every page of a query, following nextCursor. */
    async function allPages(query: string, limit: number): Promise<string[]> {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 50; pages += 1) {
        const page: { status: number; body: JobPage } = await frank.list(
          `?limit=${limit}${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        expect(page.status).toBe(200);
        seen.push(...page.body.items.map((job) => job.id));
        cursor = page.body.nextCursor;
        if (!cursor) return seen;
      }
      throw new Error('more than 50 pages');
    }

    function expected(sort: 'newest' | 'oldest' | 'name' | 'size', keep: (job: JobView) => boolean = () => true): string[] {
      const key = (job: JobView): number | string =>
        sort === 'name' ? job.originalFilename.toLowerCase() : sort === 'size' ? job.fileSize : Date.parse(job.createdAt);
      const direction = sort === 'newest' || sort === 'size' ? -1 : 1;
      const compare = (a: number | string, b: number | string) => (a < b ? -1 : a > b ? 1 : 0);
      return jobs
        .filter((job) => job.id !== jobs[6].id && keep(job))
        .sort((a, b) => direction * (compare(key(a), key(b)) || compare(a.id, b.id)))
        .map((job) => job.id);
    }

    it.each(['newest', 'oldest', 'name', 'size'] as const)(
      'pages through sort=%s with ties, every job once, in order, at every page size',
      async (sort) => {
        const want = expected(sort);
        expect(want).toHaveLength(7);
        for (const limit of [1, 2, 3, 7, 200]) expect(await allPages(`&sort=${sort}`, limit)).toEqual(want);
      },
    );

    it('lists the files of one request in the order they were sent (their ids follow arrival, whatever each one is)', async () => {
      const grace = await ApiClient.register(stack.baseUrl);
      const small = await media.jpeg(48, 32, '#405060');
      const kinds = [
        { ...small, name: 's1.jpg' },
        { ...(await media.pngWithAlpha(40, 30)), name: 's2.png' },
        // Accepted by its magic bytes, and shorter than the sniff window: its stream ends first.
        { ...media.brokenJpeg(), name: 'trunc.jpg', data: media.brokenJpeg().data.subarray(0, 40) },
        { ...(await media.animatedGif()), name: 's3.gif' },
        { ...(await media.animatedWebp()), name: 's4.webp' },
        { ...small, name: 's5.jpg', data: Buffer.concat([small.data, Buffer.from([5])]) },
      ];
      const sent = [...kinds, ...kinds.map((file) => ({ ...file, name: `again-${file.name}` }))];
      const uploaded = await grace.uploadOk(sent);
      expect(uploaded.map((job) => job.originalFilename)).toEqual(sent.map((file) => file.name));
      expect([...uploaded.map((job) => job.id)].sort()).toEqual(uploaded.map((job) => job.id));
      const oldest = await grace.list('?sort=oldest&limit=100');
      expect(oldest.body.items.map((job) => job.originalFilename)).toEqual(sent.map((file) => file.name));
      const newest = await grace.list('?sort=newest&limit=100');
      expect(newest.body.items.map((job) => job.originalFilename)).toEqual(sent.map((file) => file.name).reverse());
    });

    it('keeps pages stable when jobs are added or trashed between them', async () => {
      const want = expected('name');
      const first = await frank.list('?sort=name&limit=3');
      expect(ids(first)).toEqual(want.slice(0, 3));
      // Between the pages: one job joins before the cursor, one already seen and one not yet seen go to the trash.
      const late = await frank.uploadOk([{ ...(await media.jpeg(32, 32)), name: '0-first-by-name.jpg' }]);
      await frank.waitFor(late[0].id);
      const [seen, unseen] = [want[1], want[4]];
      await frank.request('POST', '/api/jobs/bulk', { json: { action: 'delete', ids: [seen, unseen] } });
      const rest = await frank.list(`?sort=name&limit=200&cursor=${encodeURIComponent(first.body.nextCursor!)}`);
      expect(ids(rest)).toEqual(want.slice(3).filter((id) => id !== unseen));
      await frank.request('POST', '/api/jobs/bulk', { json: { action: 'restore', ids: [seen, unseen] } });
      expect((await frank.request('DELETE', `/api/jobs/${late[0].id}?permanent=true`)).status).toBe(204);
      expect(await allPages('&sort=name', 200)).toEqual(want);
    });

    it('searches names case-insensitively and literally (% and _ are plain characters), alone and with type and sort', async () => {
      const has = (part: string) => (job: JobView) => job.originalFilename.toLowerCase().includes(part.toLowerCase());
      expect(await allPages('&q=B.J', 2)).toEqual(expected('newest', has('b.j')));
      expect(await allPages('&q=%25', 1)).toEqual([jobs[3].id]);
      expect(await allPages('&q=_', 1)).toEqual([jobs[2].id]);
      expect(await allPages(`&q=${encodeURIComponent('éTÉ')}`, 1)).toEqual([jobs[4].id]);
      expect(await allPages('&q=nothing-like-this', 5)).toEqual([]);
      expect(await allPages('&q=.gif', 5)).toEqual([jobs[7].id]);
      expect(await allPages('&q=.jpg&sort=size', 2)).toEqual(expected('size', has('.jpg')));
      expect(await allPages('&q=a&sort=name&type=image', 1)).toEqual(expected('name', has('a')));
    });

    it('filters by type, with status and sort too', async () => {
      expect(await allPages('&type=image&sort=oldest', 3)).toEqual(expected('oldest'));
      expect(await allPages('&type=video', 3)).toEqual([]);
      expect(await allPages('&type=image&status=completed&sort=size', 4)).toEqual(expected('size'));
      expect(await allPages('&type=image&status=failed', 4)).toEqual([]);
      expect(await allPages('&trashed=true&sort=name', 1)).toEqual([jobs[6].id]);
    });

    it('answers 400 to bad values, and to a cursor of another sort or a tampered one', async () => {
      const page = await frank.list('?sort=name&limit=2');
      const cursor = page.body.nextCursor!;
      const bad = [
        '?sort=largest',
        '?sort=',
        '?type=audio',
        '?type=IMAGE',
        `?q=${'x'.repeat(201)}`,
        '?q=a&q=b',
        `?sort=size&cursor=${cursor}`,
        `?cursor=${cursor}`,
        '?sort=name&cursor=nope!',
        `?sort=name&cursor=${Buffer.from('["name",1,"x"]').toString('base64url')}`,
        `?sort=newest&cursor=${Buffer.from(JSON.stringify(['newest', 'soon', jobs[0].id])).toString('base64url')}`,
        '?limit=2&cursor=' + jobs[0].id,
        // Only decimal digits are a number here.
        '?limit=0x10',
        '?limit=1e1',
        '?limit=%205',
        '?limit=2.0',
        '?limit=',
      ];
      for (const query of bad) {
        const response = await frank.list(query);
        expect({ query, status: response.status }).toEqual({ query, status: 400 });
        expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      }
    });

    it('answers 400 to a search with a NUL or another control character (SQLite LIKE stops at a NUL and matched every job)', async () => {
      for (const q of ['\u0000zzzzzz', 'a\u0000', '\u0000', 'x\u0001y', 'tab\there', 'line\nbreak', '\u001f', '\u007f']) {
        const response = await frank.list(`?q=${encodeURIComponent(q)}`);
        expect({ q, status: response.status }).toEqual({ q, status: 400 });
        expect(response.body).toEqual({ statusCode: 400, error: 'Bad Request', message: ['q must not contain control characters'] });
      }
      expect((await frank.list('?q=zzzzzz')).body.items).toEqual([]);
    });

    it("never lists another user's jobs, whatever the query", async () => {
      const other = await ApiClient.register(stack.baseUrl);
      for (const query of ['', '?q=b', '?sort=name', '?sort=size', '?type=image', '?trashed=true']) {
        expect((await other.list(query)).body.items).toEqual([]);
      }
      const cursor = (await frank.list('?sort=name&limit=2')).body.nextCursor!;
      expect((await other.list(`?sort=name&cursor=${cursor}`)).body.items).toEqual([]);
    });
  });

  describe('stats', () => {
    it('counts the library by status and type, the trash apart, and sums the bytes kept (the trash included)', async () => {
      const gina = await ApiClient.register(stack.baseUrl);
      const empty = await gina.request<Record<string, unknown>>('GET', '/api/jobs/stats');
      expect(empty.status).toBe(200);
      expect(empty.body).toEqual({
        total: 0,
        byStatus: { pending: 0, queued: 0, processing: 0, completed: 0, failed: 0 },
        byType: { image: 0, video: 0 },
        bytes: 0,
        quotaBytes: null,
        trashed: 0,
      });
      const jobs = await gina.uploadOk([await media.jpeg(), await media.jpeg(300, 300), media.brokenJpeg()]);
      for (const job of jobs) await gina.waitFor(job.id);
      expect((await gina.remove(jobs[0].id)).status).toBe(204);
      const stats = await gina.request<Record<string, unknown>>('GET', '/api/jobs/stats');
      expect(stats.body).toEqual({
        total: 2,
        byStatus: { pending: 0, queued: 0, processing: 0, completed: 1, failed: 1 },
        byType: { image: 2, video: 0 },
        bytes: jobs.reduce((sum, job) => sum + job.fileSize, 0),
        quotaBytes: null,
        trashed: 1,
      });
      // Nobody else's jobs count.
      const other = await ApiClient.register(stack.baseUrl);
      expect((await other.request<{ total: number; bytes: number }>('GET', '/api/jobs/stats')).body).toMatchObject({ total: 0, bytes: 0 });
      expect((await fetch(`${stack.baseUrl}/api/jobs/stats`)).status).toBe(401);
    });
  });

  describe('bulk actions', () => {
    type Bulk = { done: string[]; skipped: { id: string; reason: string }[] };

    it('deletes to the trash, restores and retries many jobs at once, skipping what it cannot act on with a reason', async () => {
      const hal = await ApiClient.register(stack.baseUrl);
      const other = await ApiClient.register(stack.baseUrl);
      const [ok1, ok2, ok3, bad1, bad2] = await hal.uploadOk([
        await media.jpeg(),
        await media.jpeg(100, 100),
        await media.jpeg(120, 100),
        media.brokenJpeg(),
        { ...media.brokenJpeg(), name: 'broken-2.jpg', data: Buffer.concat([media.brokenJpeg().data, Buffer.from([1])]) },
      ]);
      const [theirs] = await other.uploadOk([await media.jpeg(90, 90)]);
      const before = new Map<string, JobView>();
      for (const job of [ok1, ok2, ok3, bad1, bad2]) before.set(job.id, await hal.waitFor(job.id));
      expect(before.get(bad1.id)!.status).toBe('failed');

      const missing = '0190a7e2-0000-7000-8000-000000000000';
      const retry = await hal.request<Bulk>('POST', '/api/jobs/bulk', {
        json: { action: 'retry', ids: [ok1.id, bad1.id, bad2.id, theirs.id, missing, 'junk'] },
      });
      expect(retry.status).toBe(200);
      expect(retry.body.done).toEqual([bad1.id, bad2.id]);
      expect(retry.body.skipped).toEqual([
        { id: theirs.id, reason: 'not_found' },
        { id: missing, reason: 'not_found' },
        { id: 'junk', reason: 'not_found' },
        { id: ok1.id, reason: 'not_failed' },
      ]);
      for (const job of [bad1, bad2]) {
        const again = await hal.waitFor(job.id, ['failed'], 60_000);
        expect(Date.parse(again.updatedAt)).toBeGreaterThan(Date.parse(before.get(job.id)!.updatedAt));
      }

      const trash = await hal.request<Bulk>('POST', '/api/jobs/bulk', {
        json: { action: 'delete', ids: [ok1.id, ok2.id, ok1.id, theirs.id] },
      });
      expect(trash.body).toEqual({ done: [ok1.id, ok2.id], skipped: [{ id: theirs.id, reason: 'not_found' }] });
      expect(ids(await hal.list('?trashed=true')).sort()).toEqual([ok1.id, ok2.id].sort());
      expect((await other.job(theirs.id)).body.deletedAt).toBeNull();
      // Deleting again is what was asked already.
      expect((await hal.request<Bulk>('POST', '/api/jobs/bulk', { json: { action: 'delete', ids: [ok1.id] } })).body).toEqual({
        done: [ok1.id],
        skipped: [],
      });

      // Someone else's bulk action touches nothing of hal's.
      const foreign = await other.request<Bulk>('POST', '/api/jobs/bulk', { json: { action: 'restore', ids: [ok1.id, ok2.id] } });
      expect(foreign.body).toEqual({
        done: [],
        skipped: [
          { id: ok1.id, reason: 'not_found' },
          { id: ok2.id, reason: 'not_found' },
        ],
      });
      expect(ids(await hal.list('?trashed=true'))).toHaveLength(2);

      const restore = await hal.request<Bulk>('POST', '/api/jobs/bulk', { json: { action: 'restore', ids: [ok1.id, ok3.id] } });
      expect(restore.body).toEqual({ done: [ok1.id, ok3.id], skipped: [] });
      expect(ids(await hal.list('?trashed=true'))).toEqual([ok2.id]);
      expect((await hal.job(ok1.id)).body.deletedAt).toBeNull();
    });

    it('answers 400 to a bad action or id list (none, over 500, not strings, extra fields)', async () => {
      const ivy = await ApiClient.register(stack.baseUrl);
      const id = '0190a7e2-0000-7000-8000-000000000000';
      const bad: unknown[] = [
        { action: 'purge', ids: [id] },
        { ids: [id] },
        { action: 'delete' },
        { action: 'delete', ids: [] },
        { action: 'delete', ids: id },
        { action: 'delete', ids: [1] },
        { action: 'delete', ids: [{ $gt: '' }] },
        { action: 'delete', ids: Array.from({ length: 501 }, () => id) },
        { action: 'delete', ids: [id], extra: true },
      ];
      for (const json of bad) {
        const response = await ivy.request('POST', '/api/jobs/bulk', { json });
        expect({ json, status: response.status }).toEqual({ json, status: 400 });
        expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      }
      const most = await ivy.request<Bulk>('POST', '/api/jobs/bulk', {
        json: { action: 'delete', ids: Array.from({ length: 500 }, () => id) },
      });
      expect(most.status).toBe(200);
      expect(most.body).toEqual({ done: [], skipped: [{ id, reason: 'not_found' }] });
    });
  });

  describe('archives', () => {
    type Archive = { url: string; expiresAt: string };

    it("zips the owner's thumbnails or originals under their names, de-duplicated and made safe, behind a signed URL", async () => {
      const jo = await ApiClient.register(stack.baseUrl);
      const other = await ApiClient.register(stack.baseUrl);
      const picture = async (name: string, width: number) => ({ ...(await media.jpeg(width, 80)), name });
      const jobs = await jo.uploadOk([
        await picture('a.jpg', 100),
        await picture('A.jpg', 110),
        await picture('a.jpg', 120),
        await picture('../../etc/passwd.jpg', 130),
        await picture('..\\win\\évian.jpeg', 140),
        media.brokenJpeg(),
      ]);
      const [theirs] = await other.uploadOk([await picture('theirs.jpg', 150)]);
      for (const job of jobs) await jo.waitFor(job.id);
      await other.waitFor(theirs.id);
      const wanted = [...jobs.map((job) => job.id), theirs.id, '0190a7e2-0000-7000-8000-000000000000'];

      const thumbs = await jo.request<Archive>('POST', '/api/archives', { json: { ids: wanted, content: 'thumbnails' } });
      expect(thumbs.status).toBe(201);
      expect(thumbs.body.url).toMatch(/^\/api\/archives\/[A-Za-z0-9_-]{22}\.zip\?exp=\d+&sig=[A-Za-z0-9_-]+$/);
      expect(Date.parse(thumbs.body.expiresAt)).toBeGreaterThan(Date.now());
      // The signed URL alone opens it (a plain link).
      const zip = await jo.fetchBytes(thumbs.body.url);
      expect(zip.status).toBe(200);
      expect(zip.headers.get('content-type')).toBe('application/zip');
      expect(zip.headers.get('content-disposition')).toMatch(/^attachment; filename="thumbnails-\d{4}-\d{2}-\d{2}\.zip"$/);
      const entries = readZip(zip.data);
      // The broken file has no thumbnail; theirs and the unknown id are not in it.
      expect(entries.map((entry) => entry.name)).toEqual(['a.jpg', 'A (2).jpg', 'a (3).jpg', 'passwd.jpg', 'évian.jpg']);
      for (const [i, entry] of entries.entries()) {
        expect(entry.data.equals((await jo.fetchBytes(`/api/thumbnails/${jobs[i].id}.jpg`, true)).data)).toBe(true);
      }

      const originals = await jo.request<Archive>('POST', '/api/archives', { json: { ids: wanted, content: 'originals' } });
      const all = readZip((await jo.fetchBytes(originals.body.url)).data);
      expect(all.map((entry) => entry.name)).toEqual(['a.jpg', 'A (2).jpg', 'a (3).jpg', 'passwd.jpg', 'évian.jpeg', 'broken.jpg']);
      for (const [i, entry] of all.entries()) {
        expect(entry.data.equals(fs.readFileSync(path.join(stack.dir, 'files', 'uploads', jobs[i].id)))).toBe(true);
      }

      // A tampered signature or expiry, another archive's signature, or a made-up id: 404.
      const sigOf = (url: string) => /sig=([^&]+)/.exec(url)![1];
      for (const url of [
        thumbs.body.url.replace(/sig=[^&]+/, 'sig=AAAA'),
        thumbs.body.url.replace(/exp=\d+/, 'exp=99999999999'),
        thumbs.body.url.replace(/sig=[^&]+/, `sig=${sigOf(originals.body.url)}`),
        thumbs.body.url.replace(/\?.*$/, ''),
        `/api/archives/${'A'.repeat(22)}.zip?exp=99999999999&sig=AAAA`,
        '/api/archives/..%2F..%2Fthumbs.db',
      ]) {
        expect({ url, status: (await jo.fetchBytes(url)).status }).toEqual({ url, status: 404 });
      }
      // Someone else asking for jo's jobs gets an empty zip.
      const foreign = await other.request<Archive>('POST', '/api/archives', {
        json: { ids: jobs.map((job) => job.id), content: 'originals' },
      });
      expect(foreign.status).toBe(201);
      expect(readZip((await other.fetchBytes(foreign.body.url)).data)).toEqual([]);
    });

    it('answers 400 to bad ids or content and 401 without a token', async () => {
      const kim = await ApiClient.register(stack.baseUrl);
      const id = '0190a7e2-0000-7000-8000-000000000000';
      for (const json of [
        { ids: [id] },
        { ids: [id], content: 'everything' },
        { ids: [], content: 'thumbnails' },
        { ids: id, content: 'thumbnails' },
        { ids: [7], content: 'thumbnails' },
        { ids: Array.from({ length: 1001 }, () => id), content: 'thumbnails' },
        { ids: [id], content: 'thumbnails', extra: 1 },
      ]) {
        const response = await kim.request('POST', '/api/archives', { json });
        expect({ json, status: response.status }).toEqual({ json, status: 400 });
      }
      expect(
        (await kim.request('POST', '/api/archives', { json: { ids: Array.from({ length: 1000 }, () => id), content: 'thumbnails' } }))
          .status,
      ).toBe(201);
      const anonymous = await fetch(`${stack.baseUrl}/api/archives`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ids: [id], content: 'thumbnails' }),
      });
      expect(anonymous.status).toBe(401);
    });
  });
});

describe('trash purge (TRASH_TTL=2s)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 1, env: { TRASH_TTL: '2s', USER_QUOTA_BYTES: '5000000' } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('removes jobs trashed longer than TRASH_TTL with their files, and leaves restored and untrashed ones', async () => {
    const erin = await ApiClient.register(stack.baseUrl);
    const [kept, purged, restored] = await erin.uploadOk([await media.jpeg(), await media.jpeg(), await media.jpeg()]);
    for (const job of [kept, purged, restored]) await erin.waitFor(job.id);
    const files = path.join(stack.dir, 'files');
    expect((await erin.remove(purged.id)).status).toBe(204);
    expect((await erin.remove(restored.id)).status).toBe(204);
    expect((await erin.request('POST', `/api/jobs/${restored.id}/restore`)).status).toBe(200);

    const deadline = Date.now() + 60_000;
    while ((await erin.job(purged.id)).status !== 404) {
      if (Date.now() > deadline) throw new Error('the trashed job was not purged within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(fs.existsSync(path.join(files, 'uploads', purged.id))).toBe(false);
    expect(fs.existsSync(path.join(files, 'processed', purged.id))).toBe(false);
    expect((await erin.list('?trashed=true')).body.items).toEqual([]);
    const stats = (await erin.request<{ trashed: number; total: number; bytes: number; quotaBytes: number }>('GET', '/api/jobs/stats'))
      .body;
    expect(stats).toMatchObject({ trashed: 0, total: 2, bytes: kept.fileSize + restored.fileSize, quotaBytes: 5_000_000 });
    for (const job of [kept, restored]) {
      expect((await erin.job(job.id)).body).toMatchObject({ status: 'completed', deletedAt: null });
      expect(fs.existsSync(path.join(files, 'uploads', job.id))).toBe(true);
    }
  });
});

/** The entries of a zip, read from its central directory (stored or deflated), in order. */
function readZip(zip: Buffer): { name: string; data: Buffer }[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error('not a zip: no end of central directory');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: { name: string; data: Buffer }[] = [];
  for (let i = 0; i < count; i += 1) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory entry');
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(dataAt, dataAt + compressedSize);
    entries.push({ name, data: method === 0 ? Buffer.from(raw) : inflateRawSync(raw) });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
