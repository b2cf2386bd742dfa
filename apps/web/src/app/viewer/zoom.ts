/** Width and height, CSS pixels or the picture's own pixels. */
export interface Size {
  readonly width: number;
  readonly height: number;
}

/** A point relative to the centre of the frame, CSS pixels. */
export interface Point {
  readonly x: number;
  readonly y: number;
}

/**
 * How a picture sits in its frame: `scale` CSS pixels per pixel of the picture (1: actual size),
 * its centre `x`, `y` CSS pixels from the frame's centre.
 */
export interface Zoom {
  readonly scale: number;
  readonly x: number;
  readonly y: number;
}

/** The most a picture is enlarged: eight screen pixels to one of the picture. */
export const MAX_SCALE = 8;
/** One step of the `+` and `-` keys. */
export const ZOOM_STEP = 1.5;

/** The scale that shows all of `picture` in `frame`, never above actual size. */
export function fitScale(picture: Size, frame: Size): number {
  return Math.min(1, frame.width / picture.width, frame.height / picture.height);
}

/** The whole picture, centred in the frame. */
export function fitZoom(picture: Size, frame: Size): Zoom {
  return { scale: fitScale(picture, frame), x: 0, y: 0 };
}

/**
 * `zoom` within bounds: no smaller than fitting, no larger than {@link MAX_SCALE}; a picture larger
 * than the frame covers it (no empty margin dragged into view), a smaller one stays centred.
 */
export function clampZoom(zoom: Zoom, picture: Size, frame: Size): Zoom {
  const fit = fitScale(picture, frame);
  const scale = Math.min(Math.max(zoom.scale, fit), Math.max(MAX_SCALE, fit));
  const limit = (shown: number, room: number, offset: number): number => {
    const slack = Math.max(0, (shown - room) / 2);
    return Math.min(slack, Math.max(-slack, offset));
  };
  return { scale, x: limit(picture.width * scale, frame.width, zoom.x), y: limit(picture.height * scale, frame.height, zoom.y) };
}

/** `zoom` at a new `scale`, the point of the picture under `at` staying under it (as far as the bounds let it). */
export function zoomAround(zoom: Zoom, scale: number, at: Point, picture: Size, frame: Size): Zoom {
  const bounded = clampZoom({ ...zoom, scale }, picture, frame).scale;
  const ratio = bounded / zoom.scale;
  return clampZoom({ scale: bounded, x: at.x - (at.x - zoom.x) * ratio, y: at.y - (at.y - zoom.y) * ratio }, picture, frame);
}

/** Where double-click and the toolbar button go from fitting: actual size, or twice the size of a picture already shown at it. */
export function detailScale(picture: Size, frame: Size): number {
  const fit = fitScale(picture, frame);
  return fit < 1 ? 1 : Math.min(MAX_SCALE, 2 * fit);
}

/** How much a wheel turn zooms: a mouse notch (≈ 100 px) about 20 %; a pinch (ctrl+wheel, small deltas) follows the fingers. */
export function wheelFactor(event: { deltaY: number; deltaMode: number; ctrlKey: boolean }): number {
  const pixels = event.deltaY * (event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? 400 : 1);
  const rate = event.ctrlKey ? 0.01 : 0.002;
  return Math.exp(-Math.max(-200, Math.min(200, pixels)) * rate);
}
