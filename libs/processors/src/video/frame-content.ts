import sharp from 'sharp';

/** Brightness statistics of a frame, 0–255. */
export interface LumaStats {
  mean: number;
  stdev: number;
}

/** Below this spread of brightness a frame is one flat tone (a fade, a slate, a black gap). */
const FLAT_STDEV = 6;
/** A frame this dark with this little spread is black with compression noise. */
const DARK_MEAN = 24;
const DARK_STDEV = 10;
/** Frames are measured at this size: enough to tell a picture from a flat field, cheap to compute. */
const SAMPLE_EDGE = 64;

export async function lumaStats(image: Buffer): Promise<LumaStats> {
  const { data } = await sharp(image, { limitInputPixels: false, sequentialRead: true })
    .resize(SAMPLE_EDGE, SAMPLE_EDGE, { fit: 'inside', kernel: 'linear' })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  let sum = 0;
  let sumOfSquares = 0;
  for (const value of data) {
    sum += value;
    sumOfSquares += value * value;
  }
  const count = Math.max(1, data.length);
  const mean = sum / count;
  return { mean, stdev: Math.sqrt(Math.max(0, sumOfSquares / count - mean * mean)) };
}

/**
 * Whether a frame shows nothing worth a thumbnail: black, or one flat tone. The same idea as
 * ffmpeg's `blackframe` filter and the black-frame skipping of Jellyfin and Plex.
 */
export function isBlank(stats: LumaStats): boolean {
  return stats.stdev < FLAT_STDEV || (stats.mean < DARK_MEAN && stats.stdev < DARK_STDEV);
}
