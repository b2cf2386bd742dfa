import * as fs from 'node:fs';
import * as path from 'node:path';
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
});

describe('trash purge (TRASH_TTL=2s)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 1, env: { TRASH_TTL: '2s' } });
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
    for (const job of [kept, restored]) {
      expect((await erin.job(job.id)).body).toMatchObject({ status: 'completed', deletedAt: null });
      expect(fs.existsSync(path.join(files, 'uploads', job.id))).toBe(true);
    }
  });
});
