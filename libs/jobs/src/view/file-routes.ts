import type { SignedResource } from '@app/auth';
import type { Job } from '../job';

/**
 * Where each file of a job is served: `<route>/<jobId><suffix>`, in the style of
 * `/api/thumbnails/<id>.jpg`. The 2× thumbnail shares the thumbnails route (`<id>@2x.jpg`, the
 * srcset convention); the original has no extension (its type is the sniffed one, not a name's).
 */
export const FILE_ROUTES = {
  thumbnail: { route: 'thumbnails', suffix: '.jpg' },
  thumbnail2x: { route: 'thumbnails', suffix: '@2x.jpg' },
  download: { route: 'download', suffix: '.jpg' },
  preview: { route: 'previews', suffix: '.webp' },
  animatedPreview: { route: 'animated-previews', suffix: '.webp' },
  original: { route: 'originals', suffix: '' },
} as const satisfies Record<SignedResource, { route: string; suffix: string }>;

/** The storage key each resource is read from, null while the job has none. */
export function keyOf(job: Job, resource: SignedResource): string | null {
  switch (resource) {
    case 'thumbnail':
    case 'download':
      return job.thumbnailKey;
    case 'thumbnail2x':
      return job.thumbnail2xKey;
    case 'preview':
      return job.previewKey;
    case 'animatedPreview':
      return job.animatedPreviewKey;
    case 'original':
      return job.originalKey;
  }
}

/** `/api/<route>/<jobId><suffix>`, without the signature. */
export function filePath(resource: SignedResource, jobId: string): string {
  const { route, suffix } = FILE_ROUTES[resource];
  return `/api/${route}/${jobId}${suffix}`;
}

/** The job id in a file name of one route, for the resources served there; null for any other name. */
export function parseFileName(route: string, filename: string): { resource: SignedResource; jobId: string } | null {
  for (const [resource, file] of Object.entries(FILE_ROUTES) as [SignedResource, { route: string; suffix: string }][]) {
    if (file.route !== route || !filename.endsWith(file.suffix)) continue;
    const jobId = filename.slice(0, filename.length - file.suffix.length);
    if (/^[0-9a-f-]{36}$/.test(jobId)) return { resource, jobId };
  }
  return null;
}
