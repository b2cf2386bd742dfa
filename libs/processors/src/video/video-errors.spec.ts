import fc from 'fast-check';
import { UnprocessableMediaError } from '@app/core';
import { describeVideoFailure, reportsTruncation, stderrLines } from './video-errors';

const FILE = '/var/lib/thumbs/tmp/0193a9f0-original.mp4';

// stderr as ffmpeg 5.1 and ffprobe printed it for the fixtures of video-thumbnailer.spec.ts.
const MOOV = `[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5620d4abd180] moov atom not found\n${FILE}: Invalid data found when processing input\n`;
const PARTIAL = [
  '[NULL @ 0x5616faaa5ec0] Invalid NAL unit size (367 > 353).',
  '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5616faaa4980] stream 0, offset 0xf48: partial file',
  'Error while decoding stream #0:0: Invalid data found when processing input',
].join('\n');
const EBML = `Truncating packet of size 210457527 to 19857\n[matroska,webm @ 0x5614f71ab180] 0x00 at pos 100 (0x64) invalid as first byte of an EBML number\n${FILE}: End of file\n`;

describe('describeVideoFailure', () => {
  it('explains a missing moov atom as an unfinished upload', () => {
    const error = describeVideoFailure(MOOV, FILE);
    expect(error).toBeInstanceOf(UnprocessableMediaError);
    expect(error.reason).toBe('truncated');
    expect(error.message).toBe(
      'The video could not be decoded: moov atom not found (the file is truncated or not finished uploading). Upload the complete file again.',
    );
  });

  it('explains a partial file as truncated, before the decoding errors it causes', () => {
    const error = describeVideoFailure(PARTIAL, FILE);
    expect(error.reason).toBe('truncated');
    expect(error.message).toBe(
      'The video file is truncated: it ends before its data does (stream 0, offset 0xf48: partial file). Upload the complete file again.',
    );
    expect(reportsTruncation(PARTIAL)).toBe(true);
    expect(reportsTruncation(EBML)).toBe(false);
  });

  it('quotes the decoder for damaged data', () => {
    const error = describeVideoFailure(EBML, FILE);
    expect(error.reason).toBe('undecodable');
    expect(error.message).toBe(
      'The video could not be decoded: 0x00 at pos 100 (0x64) invalid as first byte of an EBML number (the file is damaged or not a video).',
    );
  });

  it('names a codec the ffmpeg build cannot decode', () => {
    const error = describeVideoFailure('Decoder (codec av1) not found for input stream #0:0', FILE);
    expect(error).toMatchObject({
      reason: 'unsupported_codec',
      message: "The video uses the av1 codec, which this server's ffmpeg cannot decode.",
    });
  });

  it('says what was refused when the container is not one of the accepted ones', () => {
    const error = describeVideoFailure(
      `[mp3 @ 0x5563dd3fc280] Format not on whitelist 'mov,mp4,m4a,3gp,3g2,mj2,avi,matroska,webm'\n${FILE}: Invalid argument`,
      FILE,
    );
    expect(error.message).toBe('The file is not a video this service can read (MP4, MOV, AVI, WebM, MKV, MPEG-TS or 3GP).');
  });

  it('still says something when ffmpeg said nothing', () => {
    expect(describeVideoFailure('', FILE).message).toBe('The video could not be decoded: ffmpeg stopped without saying why.');
  });

  describe('Property: failure messages are one short line without server paths', () => {
    it('holds for any stderr mentioning the file', () => {
      const line = fc.oneof(
        fc.string({ maxLength: 400 }),
        fc.constantFrom(
          'moov atom not found',
          'partial file',
          'Invalid data found when processing input',
          'Decoder (codec hevc) not found',
        ),
      );
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.boolean(), line), { maxLength: 12 }), (lines) => {
          const stderr = lines.map(([withPath, text]) => (withPath ? `${FILE}: ${text}` : `[h264 @ 0x55d1c0a3b2c0] ${text}`)).join('\n');
          const { message } = describeVideoFailure(stderr, FILE);
          expect(message).not.toContain(FILE);
          expect(message).not.toMatch(/[\r\n]/);
          expect(message).not.toMatch(/@ 0x[0-9a-f]+/);
          expect(message.length).toBeLessThanOrEqual(320);
          expect(message).toMatch(/^The (video|file)/);
        }),
        { numRuns: 300 },
      );
    });
  });
});

describe('stderrLines', () => {
  it('drops paths, component prefixes, blanks and repeats', () => {
    expect(stderrLines(`${MOOV}\n\n${MOOV}`, FILE)).toEqual(['moov atom not found', 'Invalid data found when processing input']);
  });
});
