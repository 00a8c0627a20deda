/**
 * Through the SFU each remote video comes in the simulcast layer that fits its tile: the
 * rendered width (in device pixels) picks `q` (¼), `h` (½) or `f` (full resolution), and a
 * tile that is off screen or hidden gets nothing (paused). The SDK sends a request only when
 * the choice changes (Room.setLayer), so resizes cost nothing in between.
 */

/** Widths up to which a layer is enough: the fake and most webcams send 640 px, ¼ = 160, ½ = 320. */
const LOW_MAX_PX = 240;
const HALF_MAX_PX = 480;

export function layerFor(widthPx: number, visible: boolean): string | null {
  if (!visible || widthPx === 0) return null;
  if (widthPx <= LOW_MAX_PX) return 'q';
  if (widthPx <= HALF_MAX_PX) return 'h';
  return 'f';
}

/** Watches `video`'s size and visibility and calls `choose` with the layer it needs, when that changes. */
export function watchTileLayer(video: HTMLVideoElement, choose: (rid: string | null) => void): () => void {
  let width = video.clientWidth;
  let visible = true;
  let chosen: string | null | undefined;
  const update = (): void => {
    const rid = layerFor(Math.round(width * (globalThis.devicePixelRatio || 1)), visible);
    if (rid !== chosen) choose((chosen = rid));
  };
  const resize = new ResizeObserver(([entry]) => {
    width = entry?.contentRect.width ?? video.clientWidth;
    update();
  });
  const seen = new IntersectionObserver(([entry]) => {
    visible = entry?.isIntersecting ?? true;
    update();
  });
  resize.observe(video);
  seen.observe(video);
  update();
  return () => {
    resize.disconnect();
    seen.disconnect();
  };
}
