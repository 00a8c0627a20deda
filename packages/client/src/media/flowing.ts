/**
 * Calls `fn` once `track` carries media: at once if it is not muted, else on its first
 * 'unmute' (a remote track is muted until its first packets arrive, W3C webrtc-pc §4.3.1).
 * A new path's track (mesh ↔ SFU) is shown only then, so the picture never goes blank while
 * the new path waits for its first keyframe. Fakes without events count as flowing.
 */
export function whenFlowing(track: MediaStreamTrack, fn: () => void): void {
  if (!track.muted || typeof track.addEventListener !== 'function') return fn();
  track.addEventListener('unmute', fn, { once: true });
}
