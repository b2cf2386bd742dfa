import { clampZoom, detailScale, fitScale, MAX_SCALE, wheelFactor, zoomAround } from './zoom';

const frame = { width: 1000, height: 800 };
const photo = { width: 4000, height: 3000 };

describe('viewer zoom', () => {
  it('fits a large picture into the frame and shows a small one at actual size', () => {
    expect(fitScale(photo, frame)).toBe(0.25);
    expect(fitScale({ width: 400, height: 300 }, frame)).toBe(1);
  });

  it('keeps the point under the pointer where it is while zooming', () => {
    const fit = { scale: 0.25, x: 0, y: 0 };
    const at = { x: 200, y: -100 };
    const zoomed = zoomAround(fit, 1, at, photo, frame);
    expect(zoomed.scale).toBe(1);
    // The picture point under `at` before: (at - centre) / scale; after, the same point is under `at`.
    const before = { x: (at.x - fit.x) / fit.scale, y: (at.y - fit.y) / fit.scale };
    expect(at.x - zoomed.x).toBeCloseTo(before.x * zoomed.scale);
    expect(at.y - zoomed.y).toBeCloseTo(before.y * zoomed.scale);
  });

  it('never zooms out past fitting nor in past the maximum, and keeps a larger picture covering the frame', () => {
    expect(clampZoom({ scale: 0.01, x: 50, y: 50 }, photo, frame)).toEqual({ scale: 0.25, x: 0, y: 0 });
    expect(clampZoom({ scale: 100, x: 0, y: 0 }, photo, frame).scale).toBe(MAX_SCALE);
    // At actual size the picture is 4000 wide in a 1000 frame: at most 1500 either way.
    expect(clampZoom({ scale: 1, x: 9999, y: -9999 }, photo, frame)).toEqual({ scale: 1, x: 1500, y: -1100 });
  });

  it('goes from fitting to actual size, or to twice the size of a picture shown at actual size already', () => {
    expect(detailScale(photo, frame)).toBe(1);
    expect(detailScale({ width: 400, height: 300 }, frame)).toBe(2);
  });

  it('zooms in on a wheel turned away (or a pinch out), out on one turned back', () => {
    expect(wheelFactor({ deltaY: -100, deltaMode: 0, ctrlKey: false })).toBeGreaterThan(1);
    expect(wheelFactor({ deltaY: 100, deltaMode: 0, ctrlKey: false })).toBeLessThan(1);
    // A pinch sends small deltas with ctrl held: they count for more.
    expect(wheelFactor({ deltaY: -10, deltaMode: 0, ctrlKey: true })).toBeCloseTo(
      wheelFactor({ deltaY: -50, deltaMode: 0, ctrlKey: false }),
    );
  });
});
