const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/**
 * File sizes as people read them, in binary units (1 KiB = 1024 bytes), the one convention of the
 * api's messages and the web app: "512 bytes", "1.5 KiB", "100 MiB". Sizes that make no sense
 * (negative, not a number) read as ''.
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : +value.toFixed(1)} ${UNITS[unit]}`;
}
