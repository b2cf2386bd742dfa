import sharp, { type Sharp } from 'sharp';
import type { UploadFile } from './client';

/** Small, valid media generated on the fly (nothing binary is committed). */
export const media = {
  async jpeg(width = 320, height = 200, colour = '#3a7bd5'): Promise<UploadFile> {
    return { name: 'photo.jpg', type: 'image/jpeg', data: await solid(width, height, colour).jpeg().toBuffer() };
  },
  async pngWithAlpha(width = 200, height = 300): Promise<UploadFile> {
    const data = await sharp({ create: { width, height, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0 } } })
      .composite([
        {
          input: await solid(width / 2, height / 2, '#00ff00')
            .png()
            .toBuffer(),
          gravity: 'centre',
        },
      ])
      .png()
      .toBuffer();
    return { name: 'logo.png', type: 'image/png', data };
  },
  async animatedGif(colours = ['#ff0000', '#00ff00', '#0000ff']): Promise<UploadFile> {
    const frames = await Promise.all(colours.map((colour) => solid(160, 120, colour).png().toBuffer()));
    const data = await sharp(frames, { join: { animated: true } })
      .gif({ loop: 0, delay: frames.map(() => 100) })
      .toBuffer();
    return { name: 'anim.gif', type: 'image/gif', data };
  },
  async animatedWebp(colours = ['#ff0000', '#00ff00', '#0000ff']): Promise<UploadFile> {
    const frames = await Promise.all(colours.map((colour) => solid(160, 120, colour).png().toBuffer()));
    const data = await sharp(frames, { join: { animated: true } })
      .webp({ loop: 0, delay: frames.map(() => 100) })
      .toBuffer();
    return { name: 'anim.webp', type: 'image/webp', data };
  },
  /**
   * A real "slow file": a 100-megapixel interlaced PNG of a few hundred kilobytes. Interlacing
   * defeats streaming decode, so the worker spends a second or more on it.
   */
  async slowPng(name = 'huge.png', background = '#808080'): Promise<UploadFile> {
    const data = await sharp({ create: { width: 10000, height: 10000, channels: 3, background } })
      .png({ compressionLevel: 9, progressive: true })
      .toBuffer();
    return { name, type: 'image/png', data };
  },
  /** A JPEG header followed by garbage: accepted at upload (magic bytes), undecodable by the worker. */
  brokenJpeg(): UploadFile {
    const data = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2048, 0x5a)]);
    return { name: 'broken.jpg', type: 'image/jpeg', data };
  },
};

export function solid(width: number, height: number, colour: string): Sharp {
  return sharp({
    create: { width: Math.max(1, Math.round(width)), height: Math.max(1, Math.round(height)), channels: 3, background: colour },
  });
}

/** Mean RGB of an image (e.g. a thumbnail) or of its centre region. */
export async function meanColour(
  data: Buffer,
  region?: { left: number; top: number; width: number; height: number },
): Promise<[number, number, number]> {
  // stats() reads its input, not the pipeline's output: extract first, into a buffer.
  const input = region ? await sharp(data).extract(region).png().toBuffer() : data;
  const { channels } = await sharp(input).stats();
  return [channels[0].mean, channels[1].mean, channels[2].mean];
}
