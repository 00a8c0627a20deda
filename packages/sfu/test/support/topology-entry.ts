/**
 * Runs inside Chromium (bundled by @pinhole/test-kit/browser): a participant of the SDK with
 * the fake camera and microphone, in a room that switches between mesh and SFU. Each remote
 * participant's latest stream plays in a muted <video>; presented frames are counted with
 * requestVideoFrameCallback, and the longest gap between two frames is kept (a freeze).
 */
import { connect, LocalMedia, type Room, type Session } from '@pinhole/client';

interface Watched {
  name: string;
  video: HTMLVideoElement;
  frames: number;
  lastFrameAt: number;
  /** Longest time between two presented frames since `resetGaps()`. */
  maxGapMs: number;
  via: 'mesh' | 'sfu';
  /** The SFU (peer id) the latest track came through. */
  sfu: string | undefined;
  width: number;
}

let session: Session | undefined;
let room: Room | undefined;
let media: LocalMedia | undefined;
const watched = new Map<string, Watched>();
const modes: string[] = [];

function watch(id: string, name: string): Watched {
  let w = watched.get(id);
  if (w) return w;
  const video = document.createElement('video');
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  document.body.append(video);
  w = { name, video, frames: 0, lastFrameAt: 0, maxGapMs: 0, via: 'mesh', sfu: undefined, width: 0 };
  const entry = w;
  const onFrame = (now: number, meta: VideoFrameCallbackMetadata): void => {
    if (entry.lastFrameAt > 0) entry.maxGapMs = Math.max(entry.maxGapMs, now - entry.lastFrameAt);
    entry.lastFrameAt = now;
    entry.frames++;
    entry.width = meta.width;
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  watched.set(id, w);
  return w;
}

const api = {
  async open(url: string, name: string, topology: 'mesh' | 'sfu' | 'auto', token?: string, meshReturnMs?: number) {
    session = await connect(url, token ? { token } : {});
    media = new LocalMedia({ mediaDevices: navigator.mediaDevices });
    await media.start({ audio: true, video: { width: 640, height: 480 } });
    room = await session.join('topology', { name }, { media, topology, ...(meshReturnMs === undefined ? {} : { meshReturnMs }) });
    room.on('topology', ({ mode }) => {
      modes.push(mode);
      console.log(`${name}: topology ${mode} at ${Math.round(performance.now())}`);
    });
    room.on('track', ({ peer, track, streams }) => {
      console.log(`${name}: track ${track.kind} from ${String(peer.meta['name'])} muted=${track.muted} at ${Math.round(performance.now())}`);
      if (track.kind !== 'video') return;
      const w = watch(peer.id, String(peer.meta['name']));
      w.via = room!.sfuConnection?.getReceivers().some((r) => r.track === track) ? 'sfu' : 'mesh';
      w.sfu = w.via === 'sfu' ? room!.sfu : undefined;
      const stream = streams[0] ?? new MediaStream([track]);
      if (w.video.srcObject !== stream) w.video.srcObject = stream;
      else void w.video.play().catch(() => undefined);
    });
    room.on('peer-left', ({ peer }) => {
      watched.get(peer.id)?.video.remove();
      watched.delete(peer.id);
    });
    return session.peerId;
  },

  state() {
    const now = performance.now();
    return {
      mode: room?.topology,
      modes,
      sfu: room?.sfu !== undefined,
      sfuId: room?.sfu,
      mesh: [...(room?.peers.values() ?? [])].map((p) => `${p.connection?.connectionState}:${p.connection?.pc.signalingState}:s${p.connection?.pc.getSenders().filter((x) => x.track).length}:r${p.connection?.pc.getTransceivers().filter((t) => t.currentDirection === 'recvonly' || t.currentDirection === 'sendrecv').length}:u${p.connection?.pc.getTransceivers().filter((t) => (t.currentDirection === 'recvonly' || t.currentDirection === 'sendrecv') && !t.receiver.track.muted).length}:${p.connection?.pc.getTransceivers().map((t) => `${t.mid}=${t.direction}/${t.currentDirection}/${t.sender.track ? 'T' : '-'}${t.receiver.track.muted ? 'm' : 'u'}`).join(',')}`).join(' '),
      /** Mesh senders that carry a track (0 once media goes through the SFU). */
      meshSenders: [...(room?.peers.values() ?? [])].reduce((n, p) => n + (p.connection?.pc.getSenders().filter((s) => s.track).length ?? 0), 0),
      videos: Object.fromEntries(
        [...watched.values()].map((w) => [w.name, { frames: w.frames, via: w.via, sfu: w.sfu, width: w.width, maxGapMs: Math.round(w.maxGapMs), sinceLastMs: Math.round(now - w.lastFrameAt) }]),
      ),
    };
  },

  /** The mesh connections' media, for a failure message: transceivers and what flows on them. */
  async meshMedia() {
    const out: Record<string, unknown> = {};
    for (const p of room?.peers.values() ?? []) {
      const pc = p.connection?.pc;
      if (!pc) continue;
      const stats = [...(await pc.getStats()).values()] as (RTCStats & Record<string, unknown>)[];
      out[String(p.meta['name'])] = {
        signaling: pc.signalingState,
        transceivers: pc.getTransceivers().map((t) => ({
          mid: t.mid,
          kind: t.receiver.track.kind,
          direction: t.direction,
          currentDirection: t.currentDirection,
          sender: t.sender.track ? `${t.sender.track.kind}:${t.sender.track.readyState}:${t.sender.track.enabled}` : null,
          encodings: t.sender.getParameters().encodings?.map((e) => `${e.rid ?? ''}:${e.active}`),
          receiverMuted: t.receiver.track.muted,
        })),
        rtp: stats
          .filter((r) => r.type === 'inbound-rtp' || r.type === 'outbound-rtp')
          .map((r) => `${r.type}:${String(r['kind'])}:mid${String(r['mid'])}:ssrc${String(r['ssrc'])}:bytes${String(r['bytesReceived'] ?? r['bytesSent'])}:frames${String(r['framesDecoded'] ?? r['framesEncoded'])}:${String(r['qualityLimitationReason'] ?? '')}`),
      };
    }
    return out;
  },

  resetGaps() {
    for (const w of watched.values()) w.maxGapMs = 0;
  },

  async leave() {
    media?.stop();
    await room?.leave();
    await session?.close();
  },
};

(window as unknown as { pinhole: typeof api }).pinhole = api;
