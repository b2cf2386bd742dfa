import type { FileType } from './job';

/** Media the service accepts, decided by content and checked against extension and declared type. */
export interface AcceptedMedia {
  kind: MediaKind;
  fileType: FileType;
  mimeType: string;
  /** Its usual name in messages and the file picker ("JPEG", "HEIC", "MPEG-TS"). */
  label: string;
  extensions: readonly string[];
}

export type MediaKind =
  | 'jpeg'
  | 'png'
  | 'gif'
  | 'webp'
  | 'avif'
  | 'heic'
  | 'tiff'
  | 'bmp'
  | 'mp4'
  | 'mov'
  | 'avi'
  | 'webm'
  | 'mkv'
  | 'mpegts'
  | '3gp';

export const ACCEPTED_MEDIA: Readonly<Record<MediaKind, AcceptedMedia>> = {
  jpeg: { kind: 'jpeg', fileType: 'image', mimeType: 'image/jpeg', label: 'JPEG', extensions: ['.jpg', '.jpeg', '.jpe', '.jfif'] },
  png: { kind: 'png', fileType: 'image', mimeType: 'image/png', label: 'PNG', extensions: ['.png', '.apng'] },
  gif: { kind: 'gif', fileType: 'image', mimeType: 'image/gif', label: 'GIF', extensions: ['.gif'] },
  webp: { kind: 'webp', fileType: 'image', mimeType: 'image/webp', label: 'WebP', extensions: ['.webp'] },
  avif: { kind: 'avif', fileType: 'image', mimeType: 'image/avif', label: 'AVIF', extensions: ['.avif'] },
  heic: { kind: 'heic', fileType: 'image', mimeType: 'image/heic', label: 'HEIC', extensions: ['.heic', '.heif', '.hif'] },
  tiff: { kind: 'tiff', fileType: 'image', mimeType: 'image/tiff', label: 'TIFF', extensions: ['.tif', '.tiff'] },
  bmp: { kind: 'bmp', fileType: 'image', mimeType: 'image/bmp', label: 'BMP', extensions: ['.bmp', '.dib'] },
  mp4: { kind: 'mp4', fileType: 'video', mimeType: 'video/mp4', label: 'MP4', extensions: ['.mp4', '.m4v'] },
  mov: { kind: 'mov', fileType: 'video', mimeType: 'video/quicktime', label: 'MOV', extensions: ['.mov', '.qt'] },
  avi: { kind: 'avi', fileType: 'video', mimeType: 'video/x-msvideo', label: 'AVI', extensions: ['.avi'] },
  webm: { kind: 'webm', fileType: 'video', mimeType: 'video/webm', label: 'WebM', extensions: ['.webm'] },
  mkv: { kind: 'mkv', fileType: 'video', mimeType: 'video/x-matroska', label: 'MKV', extensions: ['.mkv'] },
  mpegts: { kind: 'mpegts', fileType: 'video', mimeType: 'video/mp2t', label: 'MPEG-TS', extensions: ['.mts', '.m2ts', '.m2t', '.ts'] },
  '3gp': { kind: '3gp', fileType: 'video', mimeType: 'video/3gpp', label: '3GP', extensions: ['.3gp', '.3g2'] },
};

/** For the file picker's `accept` attribute and for messages. */
export const ACCEPTED_EXTENSIONS: readonly string[] = Object.values(ACCEPTED_MEDIA).flatMap((m) => m.extensions);

/** "JPEG, PNG, …" of one file type, in the order above. */
export function acceptedLabels(fileType: FileType): string {
  return Object.values(ACCEPTED_MEDIA)
    .filter((media) => media.fileType === fileType)
    .map((media) => media.label)
    .join(', ');
}
