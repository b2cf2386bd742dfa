/** Where a video stream's pictures lie, in seconds from the start of the file. */
export interface VideoSpan {
  start: number;
  duration: number;
}

/**
 * Fractions of the duration tried in turn when the frame there is black or flat: the midpoint
 * first (the contract's frame), then a little later, then a little earlier. Bounded, so a video
 * that is dark all along costs a handful of seeks, not a scan.
 */
export const CANDIDATE_FRACTIONS: readonly number[] = [0.5, 0.6, 0.7, 0.8, 0.4];

/** Candidates closer than this are the same frame for any real frame rate. */
const MIN_GAP_SECONDS = 0.001;

/**
 * The times to take a frame at, best first: the first is always `start + duration / 2`; all lie
 * in [start, start + duration) and are distinct.
 */
export function candidateTimes(span: VideoSpan): number[] {
  const start = Math.max(0, Number.isFinite(span.start) ? span.start : 0);
  const duration = Number.isFinite(span.duration) ? Math.max(0, span.duration) : 0;
  if (duration === 0) return [start];
  const times: number[] = [];
  for (const fraction of CANDIDATE_FRACTIONS) {
    const time = start + duration * fraction;
    if (time >= start + duration) continue;
    if (times.some((other) => Math.abs(other - time) < MIN_GAP_SECONDS)) continue;
    times.push(time);
  }
  // Only when start dwarfs duration in floating point: the midpoint is still the answer.
  return times.length > 0 ? times : [start + duration / 2];
}
