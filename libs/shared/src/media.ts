import type { FileType } from './job';

/** Media the service accepts, decided by content and checked against extension and declared type. */
export interface AcceptedMedia {
  kind: MediaKind;
  fileType: FileType;
  mimeType: string;
  extensions: readonly string[];
}

export type MediaKind = 'jpeg' | 'png' | 'gif' | 'webp' | 'mp4' | 'mov' | 'avi' | 'webm';

export const ACCEPTED_MEDIA: Readonly<Record<MediaKind, AcceptedMedia>> = {
  jpeg: { kind: 'jpeg', fileType: 'image', mimeType: 'image/jpeg', extensions: ['.jpg', '.jpeg', '.jpe', '.jfif'] },
  png: { kind: 'png', fileType: 'image', mimeType: 'image/png', extensions: ['.png'] },
  gif: { kind: 'gif', fileType: 'image', mimeType: 'image/gif', extensions: ['.gif'] },
  webp: { kind: 'webp', fileType: 'image', mimeType: 'image/webp', extensions: ['.webp'] },
  mp4: { kind: 'mp4', fileType: 'video', mimeType: 'video/mp4', extensions: ['.mp4', '.m4v'] },
  mov: { kind: 'mov', fileType: 'video', mimeType: 'video/quicktime', extensions: ['.mov', '.qt'] },
  avi: { kind: 'avi', fileType: 'video', mimeType: 'video/x-msvideo', extensions: ['.avi'] },
  webm: { kind: 'webm', fileType: 'video', mimeType: 'video/webm', extensions: ['.webm'] },
};

/** For the file picker's `accept` attribute and for messages. */
export const ACCEPTED_EXTENSIONS: readonly string[] = Object.values(ACCEPTED_MEDIA).flatMap((m) => m.extensions);
