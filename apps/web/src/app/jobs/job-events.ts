import { isRetryable, isTerminalStatus, JobStatus, JobStatusEvent, JobView } from '@app/shared';

/**
 * How far along the lifecycle a status is; breaks ties between an event and a job stamped with
 * the same millisecond. `failed → queued` (retry) always carries a later timestamp.
 */
const STATUS_RANK: Readonly<Record<JobStatus, number>> = { pending: 0, queued: 1, processing: 2, completed: 3, failed: 3 };

/** Milliseconds since the epoch of the job's last change. */
export function changedAt(job: JobView): number {
  return Date.parse(job.updatedAt);
}

/**
 * The job after a `job:status` event. Events older than what the job already shows are ignored
 * (the job is returned as is), so events that arrive late or twice never move a job backwards.
 */
export function applyStatusEvent(job: JobView, event: JobStatusEvent): JobView {
  if (event.jobId !== job.id) return job;
  const current = changedAt(job);
  if (event.timestamp < current) return job;
  if (event.timestamp === current) {
    if (STATUS_RANK[event.status] > STATUS_RANK[job.status]) return withEvent(job, event);
    return fillMissingUrls(job, event);
  }
  return withEvent(job, event);
}

function withEvent(job: JobView, event: JobStatusEvent): JobView {
  const at = new Date(event.timestamp).toISOString();
  const completed = event.status === 'completed';
  return {
    ...job,
    status: event.status,
    updatedAt: at,
    // The server sends the message (and code) with every `failed` event that has one; none means none.
    errorMessage: event.status === 'failed' ? (event.errorMessage ?? null) : null,
    errorCode: event.status === 'failed' ? (event.errorCode ?? null) : null,
    retryable: isRetryable(event.status, event.errorCode ?? null),
    thumbnailUrl: completed ? (event.thumbnailUrl ?? job.thumbnailUrl) : null,
    downloadUrl: completed ? (event.downloadUrl ?? job.downloadUrl) : null,
    completedAt: isTerminalStatus(event.status) ? at : null,
  };
}

/** The same change told twice, once with the signed URLs: keep them. */
function fillMissingUrls(job: JobView, event: JobStatusEvent): JobView {
  if (event.status !== job.status || job.status !== 'completed') return job;
  if ((job.thumbnailUrl || !event.thumbnailUrl) && (job.downloadUrl || !event.downloadUrl)) return job;
  return {
    ...job,
    thumbnailUrl: job.thumbnailUrl ?? event.thumbnailUrl ?? null,
    downloadUrl: job.downloadUrl ?? event.downloadUrl ?? null,
  };
}
