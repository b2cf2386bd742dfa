import type { JobStatus } from '@app/shared';

/** How each status reads in the UI: the badge label and a sentence for screen readers and tooltips. */
export const JOB_STATUS_TEXT: Readonly<Record<JobStatus, { label: string; description: string }>> = {
  pending: { label: 'Pending', description: 'Stored, about to be queued.' },
  queued: { label: 'Queued', description: 'Waiting for a worker; your files are processed in upload order.' },
  processing: { label: 'Processing', description: 'A worker is making the thumbnail.' },
  completed: { label: 'Done', description: 'The thumbnail is ready.' },
  failed: { label: 'Failed', description: 'No thumbnail could be made.' },
};
