/** Small parsers for environment values; each returns a value or throws a message naming nothing but the fault. */

export function parseInteger(raw: string, { min, max }: { min: number; max?: number }): number {
  if (!/^\s*\d+\s*$/.test(raw)) throw new Error(`must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`is too large, got "${raw}"`);
  if (value < min) throw new Error(`must be at least ${min}, got ${value}`);
  if (max !== undefined && value > max) throw new Error(`must be at most ${max}, got ${value}`);
  return value;
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "3600", "90s", "15m", "1h", "7d" → seconds. */
export function parseDurationSeconds(raw: string): number {
  const match = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(raw);
  if (!match) throw new Error(`must be a duration such as 3600, 15m, 1h or 7d, got "${raw}"`);
  const seconds = Number(match[1]) * DURATION_UNITS[match[2] || 's'];
  if (seconds < 1) throw new Error(`must be at least one second, got "${raw}"`);
  return seconds;
}

export function parseBoolean(raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(value)) return false;
  throw new Error(`must be true or false, got "${raw}"`);
}

export function parseList(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}
