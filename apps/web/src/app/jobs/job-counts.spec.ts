import { aJob } from '../../testing/jobs';
import { countedAs, moveCount } from './job-counts';
import type { JobStats } from './jobs-api.service';

const stats: JobStats = {
  total: 3,
  byStatus: { pending: 0, queued: 0, processing: 1, completed: 2, failed: 0 },
  byType: { image: 3, video: 0 },
  bytes: 3000,
  quotaBytes: null,
  trashed: 1,
};

describe('moveCount', () => {
  it('moves a job from one status to another', () => {
    const job = aJob({ status: 'processing' });
    const next = moveCount(stats, countedAs(job), countedAs({ ...job, status: 'completed' }));
    expect(next.byStatus).toEqual({ pending: 0, queued: 0, processing: 0, completed: 3, failed: 0 });
    expect(next.total).toBe(3);
    expect(stats.byStatus.processing).toBe(1);
  });

  it('counts an upload in, a delete into the trash, and one for good out', () => {
    const job = aJob({ status: 'queued', fileSize: 500 });
    const uploaded = moveCount(stats, null, countedAs(job));
    expect([uploaded.total, uploaded.byStatus.queued, uploaded.byType.image, uploaded.bytes]).toEqual([4, 1, 4, 3500]);
    const trashed = moveCount(uploaded, countedAs(job), { job, trashed: true });
    expect([trashed.total, trashed.byStatus.queued, trashed.trashed, trashed.bytes]).toEqual([3, 0, 2, 3500]);
    const gone = moveCount(trashed, { job, trashed: true }, null);
    expect([gone.total, gone.trashed, gone.bytes]).toEqual([3, 1, 3000]);
  });
});
