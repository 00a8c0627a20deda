/**
 * Calls `fn` once `track` carries media: at once if it is not muted, else on its first
 * 'unmute' (a remote track is muted until its first packets arrive, W3C webrtc-pc §4.3.1).
 * A new path's track (mesh ↔ SFU) is shown only then, so the picture never goes blank while
 * the new path waits for its first keyframe. Fakes without events count as flowing.
 *
 * With its `receiver`, the receiver's stats count too: Chromium never unmutes the track of a
 * transceiver that addTrack made, whose offer was rolled back (the polite side of an offer
 * collision, perfect negotiation) and that the remote's offer then took, although its RTP
 * arrives and plays. So while the track is muted, the receiver's decoded frames (video) or
 * packets (audio) are read every FLOWING_POLL_MS, and a rise counts as flowing, for at most
 * FLOWING_POLL_MAX_MS.
 */
import { FLOWING_POLL_MAX_MS, FLOWING_POLL_MS } from '../defaults.js';

/** Tracks found flowing by their stats while muted (see isFlowing). */
const flowingMuted = new WeakSet<MediaStreamTrack>();

/** Whether `track` carries media: not muted, or found flowing by whenFlowing although muted. */
export function isFlowing(track: MediaStreamTrack): boolean {
  return !track.muted || flowingMuted.has(track);
}

export function whenFlowing(track: MediaStreamTrack, fn: () => void, receiver?: Pick<RTCRtpReceiver, 'getStats'>): void {
  if (!track.muted || typeof track.addEventListener !== 'function') return fn();
  let done = false;
  const fire = (): void => {
    if (done) return;
    done = true;
    track.removeEventListener('unmute', fire);
    fn();
  };
  track.addEventListener('unmute', fire, { once: true });
  if (!receiver) return;
  const until = Date.now() + FLOWING_POLL_MAX_MS;
  let baseline: number | undefined;
  const poll = async (): Promise<void> => {
    if (done || track.readyState === 'ended' || Date.now() > until) return;
    const count = await received(receiver, track.kind).catch(() => undefined);
    if (done) return;
    if (count !== undefined && baseline !== undefined && count > baseline) {
      flowingMuted.add(track);
      return fire();
    }
    baseline ??= count;
    setTimeout(() => void poll(), FLOWING_POLL_MS);
  };
  void poll();
}

/** Frames decoded (video) or packets received (audio) by `receiver` so far. */
async function received(receiver: Pick<RTCRtpReceiver, 'getStats'>, kind: string): Promise<number> {
  let count = 0;
  for (const stat of (await receiver.getStats()).values() as IterableIterator<Record<string, unknown>>) {
    if (stat['type'] !== 'inbound-rtp') continue;
    const value = kind === 'video' ? stat['framesDecoded'] : stat['packetsReceived'];
    if (typeof value === 'number') count += value;
  }
  return count;
}
