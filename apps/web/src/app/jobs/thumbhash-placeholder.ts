import { thumbHashToDataURL } from 'thumbhash';

/** Decoded placeholders kept (a few screens of tiles); each is a ~1 kB data URL. */
const CACHE_SIZE = 600;
const cache = new Map<string, string | null>();

/**
 * A ThumbHash (base64, as the API sends it) as a tiny blurred PNG data URL to show until the
 * thumbnail loads; null when the hash is not valid base64 or not a ThumbHash. Decoding takes
 * ~0.1 ms, so results are kept (least recently used out first) for tiles scrolled back into view.
 */
export function thumbhashDataUrl(hash: string | null): string | null {
  if (!hash) return null;
  const held = cache.get(hash);
  if (held !== undefined) {
    cache.delete(hash);
    cache.set(hash, held);
    return held;
  }
  const url = decode(hash);
  cache.set(hash, url);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return url;
}

function decode(hash: string): string | null {
  try {
    const binary = atob(hash);
    if (binary.length < 5) return null;
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    return thumbHashToDataURL(bytes);
  } catch {
    return null;
  }
}

/** The placeholder as a CSS `background-image`, or null. */
export function thumbhashBackground(hash: string | null): string | null {
  const url = thumbhashDataUrl(hash);
  return url ? `url(${url})` : null;
}
