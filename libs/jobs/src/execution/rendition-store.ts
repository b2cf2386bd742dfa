import { RenditionKind, StorageDriver, StorageKeys } from '@app/storage';
import type { JobPatch } from '../job';

/** One encoded picture as a thumbnailer hands it over. */
export interface MadeRendition {
  data: Buffer;
  contentType: string;
}

/**
 * What a thumbnailer makes of one file, from one decode: the thumbnail and, when the pipeline makes
 * them, the other renditions and the measurements recorded on the job. (The processors lib's
 * `Renditions` has this shape; the jobs lib does not import the processors.)
 */
export interface MadeRenditions {
  thumbnail: MadeRendition;
  thumbnail2x?: MadeRendition | null;
  preview?: MadeRendition | null;
  animatedPreview?: MadeRendition | null;
  thumbhash?: string | null;
  width?: number | null;
  height?: number | null;
  durationMs?: number | null;
}

/** The job's fields for each rendition's storage key. */
const KEY_FIELDS = {
  thumbnail: 'thumbnailKey',
  thumbnail2x: 'thumbnail2xKey',
  preview: 'previewKey',
  animatedPreview: 'animatedPreviewKey',
} as const satisfies Record<RenditionKind, keyof JobPatch>;

export type RenditionPatch = Pick<
  Required<JobPatch>,
  'thumbnailKey' | 'thumbnail2xKey' | 'previewKey' | 'animatedPreviewKey' | 'thumbhash' | 'width' | 'height' | 'durationMs'
>;

/**
 * Stores every rendition under the job's key prefix (`processed/<jobId>/…`, the same on disk and
 * in a bucket) and resolves what to record on the job: each stored key (null for a rendition that
 * was not made) and the measurements. Keys are fixed per job, so a second run overwrites the first.
 * Renditions in `keep` are already stored and stay as they are (their key is recorded).
 */
export async function storeRenditions(
  storage: StorageDriver,
  jobId: string,
  made: MadeRenditions,
  options: { keep?: readonly RenditionKind[] } = {},
): Promise<RenditionPatch> {
  const patch: RenditionPatch = {
    thumbnailKey: null,
    thumbnail2xKey: null,
    previewKey: null,
    animatedPreviewKey: null,
    thumbhash: made.thumbhash ?? null,
    width: made.width ?? null,
    height: made.height ?? null,
    durationMs: made.durationMs ?? null,
  };
  await Promise.all(
    (Object.keys(KEY_FIELDS) as RenditionKind[]).map(async (kind) => {
      const rendition = made[kind];
      const key = StorageKeys.rendition(jobId, kind);
      if (options.keep?.includes(kind)) {
        patch[KEY_FIELDS[kind]] = key;
        return;
      }
      if (!rendition) return;
      await storage.put(key, rendition.data, { contentType: rendition.contentType });
      patch[KEY_FIELDS[kind]] = key;
    }),
  );
  return patch;
}

/** Removes every rendition a job may have stored (missing ones are not an error). */
export async function deleteRenditions(storage: StorageDriver, jobId: string): Promise<void> {
  await Promise.all(StorageKeys.renditionKeys(jobId).map((key) => storage.delete(key)));
}
