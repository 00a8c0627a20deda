/**
 * Runs inside Chromium (bundled by @pinhole/test-kit/browser). Each scenario builds real
 * PeerConnections over the browser's own RTCPeerConnection, wired through an in-page signal
 * pipe that delivers asynchronously (like a hub would), and returns plain JSON for the
 * test to assert on.
 */
import { LocalMedia } from '../../src/media/local-media.js';
import { whenFlowing } from '../../src/media/flowing.js';
import { PeerConnection, type PeerConnectionEvents } from '../../src/peer/peer-connection.js';
import type { RtcSignal } from '../../src/peer/signals.js';

interface Pair {
  a: PeerConnection;
  b: PeerConnection;
  /** Offers sent, by side. */
  offers: { a: number; b: number };
  close(): void;
}

/** Extra random signal delay (ms), to vary how offer collisions interleave. */
let jitter = 0;

function pair(): Pair {
  const offers = { a: 0, b: 0 };
  const lastAt = { a: 0, b: 0 };
  const make = (localId: 'a' | 'b', remote: () => PeerConnection) =>
    new PeerConnection({
      localId,
      remoteId: localId === 'a' ? 'b' : 'a',
      RTCPeerConnection,
      configuration: { iceServers: [] },
      transport: () => 'in-page',
      send: (signal: RtcSignal) => {
        trace.push(`${localId}>${'description' in signal ? signal.description.type : 'candidate' in signal ? 'cand' : signal.restart}`);
        if ('description' in signal && signal.description.type === 'offer') offers[localId]++;
        // In order, as a hub delivers: a random delay never lets a signal overtake the one before.
        const at = Math.max(lastAt[localId], performance.now() + 5 + jitter * Math.random());
        lastAt[localId] = at;
        setTimeout(() => void remote().handleSignal(signal), at - performance.now());
      },
    });
  const a: PeerConnection = make('a', () => b);
  const b: PeerConnection = make('b', () => a);
  return { a, b, offers, close: () => (a.close(), b.close()) };
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const connected = (peer: PeerConnection) =>
  waitFor(`${peer.localId} connected`, () => peer.connectionState === 'connected' || undefined).catch((err: Error) => {
    const pc = peer.pc;
    throw new Error(`${err.message} (${pc.connectionState}/${pc.iceConnectionState}/${pc.signalingState}, log: ${trace.join(' ')})`);
  });
const trace: string[] = [];

async function inboundVideo(peer: PeerConnection): Promise<{ framesDecoded: number; frameWidth?: number; frameHeight?: number } | undefined> {
  for (const stat of (await peer.pc.getStats()).values()) {
    if (stat.type === 'inbound-rtp' && stat.kind === 'video') return stat;
  }
  return undefined;
}

const framesFlowing = (peer: PeerConnection) =>
  waitFor(`${peer.localId} decoding video`, async () => {
    const s = await inboundVideo(peer);
    return s && s.framesDecoded > 0 ? s : undefined;
  });

/** Waits until `peer` decodes frames of the given aspect ratio (the encoder may scale, the shape stays). */
const aspectReceived = (peer: PeerConnection, aspect: number) =>
  waitFor(`${peer.localId} receiving ${aspect.toFixed(2)}`, async () => {
    const s = await inboundVideo(peer);
    return s?.frameWidth && s.frameHeight && Math.abs(s.frameWidth / s.frameHeight - aspect) < 0.05
      ? { width: s.frameWidth, height: s.frameHeight }
      : undefined;
  });

function ufrag(description: RTCSessionDescription | null): string | undefined {
  return /a=ice-ufrag:(\S+)/.exec(description?.sdp ?? '')?.[1];
}

/**
 * Whether `peer`'s next remote video track is found flowing by whenFlowing (as RemotePeer
 * does, before its 'track' event): 'unmute', or 'never' in `ms`.
 */
function videoFlowing(peer: PeerConnection, ms = 10_000): Promise<'unmute' | 'never'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('never'), ms);
    const off = peer.on('track', ({ track }) => {
      if (track.kind !== 'video') return;
      off();
      whenFlowing(track, () => (clearTimeout(timer), resolve('unmute')));
    });
  });
}

function next<K extends keyof PeerConnectionEvents>(peer: PeerConnection, event: K): Promise<PeerConnectionEvents[K]> {
  return peer.next(event, 15_000);
}

const scenarios = {
  /** Both sides add camera and microphone in the same task: an offer collision. */
  /** A fresh pair: the polite side leaves the first offer to the impolite one. */
  async firstOffer() {
    trace.length = 0;
    const p = pair();
    try {
      await Promise.all([connected(p.a), connected(p.b)]);
      const descriptions = trace.filter((t) => t.endsWith('offer') || t.endsWith('answer'));
      return { descriptions, connectionState: [p.a.connectionState, p.b.connectionState] };
    } finally {
      p.close();
    }
  },

  async glare() {
    const started = performance.now();
    const p = pair();
    const media = [new LocalMedia({ mediaDevices: navigator.mediaDevices }), new LocalMedia({ mediaDevices: navigator.mediaDevices })] as const;
    try {
      await Promise.all([connected(p.a), connected(p.b), media[0].start(), media[1].start()]);
      const offersBefore = { ...p.offers };
      const flowing = [videoFlowing(p.a, 3_000), videoFlowing(p.b, 3_000)];
      media[0].attach(p.a);
      media[1].attach(p.b);
      const [fa, fb] = await Promise.all([framesFlowing(p.a), framesFlowing(p.b)]);
      await waitFor('both stable', () => (p.a.pc.signalingState === 'stable' && p.b.pc.signalingState === 'stable') || undefined);
      return {
        signalingState: [p.a.pc.signalingState, p.b.pc.signalingState],
        connectionState: [p.a.connectionState, p.b.connectionState],
        offersDuringCollision: { a: p.offers.a - offersBefore.a, b: p.offers.b - offersBefore.b },
        framesDecoded: [fa.framesDecoded, fb.framesDecoded],
        flowing: await Promise.all(flowing),
        transceivers: [p.a.pc.getTransceivers().length, p.b.pc.getTransceivers().length],
        ms: Math.round(performance.now() - started),
      };
    } finally {
      media.forEach((m) => m.stop());
      p.close();
    }
  },

  setJitter(ms: number) {
    jitter = ms;
  },

  /**
   * Both sides send, both detach (media through the SFU), both attach again at once (back to
   * the mesh: an offer collision): the transceivers are used again, and each side's video
   * unmutes (with addTrack, new transceivers, the polite side's track never did).
   */
  async reattach() {
    const p = pair();
    const media = [new LocalMedia({ mediaDevices: navigator.mediaDevices }), new LocalMedia({ mediaDevices: navigator.mediaDevices })] as const;
    const stable = () => waitFor('both stable', () => (p.a.pc.signalingState === 'stable' && p.b.pc.signalingState === 'stable') || undefined);
    const dump = (peer: PeerConnection) => peer.pc.getTransceivers().map((t) => `${t.mid}:${t.direction}/${t.currentDirection}:${t.receiver.track.muted ? 'muted' : 'live'}`);
    try {
      await Promise.all([connected(p.a), connected(p.b), media[0].start(), media[1].start()]);
      // First one side, then the other (a room's first offer has no collision either).
      const first = [videoFlowing(p.a), videoFlowing(p.b)];
      media[1].attach(p.b);
      await first[0];
      await stable();
      media[0].attach(p.a);
      const before = await Promise.all(first);
      await stable();
      const transceivers = [p.a.pc.getTransceivers().length, p.b.pc.getTransceivers().length];
      media[0].detach(p.a);
      media[1].detach(p.b);
      await waitFor('both inactive', () => (p.a.pc.getTransceivers().every((t) => t.currentDirection !== 'sendrecv') && p.b.pc.signalingState === 'stable') || undefined);
      const again = [videoFlowing(p.a), videoFlowing(p.b)];
      media[0].attach(p.a);
      media[1].attach(p.b);
      const after = await Promise.all(again);
      await stable();
      const [fa, fb] = await Promise.all([framesFlowing(p.a), framesFlowing(p.b)]);
      return {
        before,
        after,
        framesDecoded: [fa.framesDecoded, fb.framesDecoded],
        transceivers: { before: transceivers, after: [p.a.pc.getTransceivers().length, p.b.pc.getTransceivers().length] },
        dump: { a: dump(p.a), b: dump(p.b) },
      };
    } finally {
      media.forEach((m) => m.stop());
      p.close();
    }
  },

  /** restartIce() restarts ICE in place: new ufrag, same RTCPeerConnection, channel survives. */
  async iceRestart() {
    const p = pair();
    try {
      const incoming = next(p.b, 'datachannel');
      const dc = p.a.createDataChannel('chat');
      const remote = await incoming;
      await waitFor('channel open', () => (dc.readyState === 'open' && remote.readyState === 'open') || undefined);
      const before = { local: ufrag(p.a.pc.currentLocalDescription), remote: ufrag(p.a.pc.currentRemoteDescription) };
      const pcBefore = p.a.pc;
      const states: string[] = [];
      p.a.on('state', (s) => states.push(s));
      const restart = next(p.a, 'restart');
      const started = performance.now();
      p.a.restartIce('network-change');
      const event = await restart;
      const after = await waitFor('new ufrags', () => {
        const local = ufrag(p.a.pc.currentLocalDescription);
        const remote = ufrag(p.a.pc.currentRemoteDescription);
        return local !== before.local && remote !== before.remote && p.b.pc.signalingState === 'stable' ? { local, remote } : undefined;
      });
      await connected(p.a);
      const restartMs = Math.round(performance.now() - started);
      const echoed = new Promise<string>((resolve) => remote.addEventListener('message', (e) => resolve(String(e.data)), { once: true }));
      dc.send('still here');
      const report = await p.a.report();
      return {
        event,
        before,
        after,
        samePc: pcBefore === p.a.pc,
        gen: p.a.gen,
        states,
        connectionState: p.a.connectionState,
        channel: [dc.readyState, remote.readyState],
        echoed: await echoed,
        restartMs,
        report,
      };
    } finally {
      p.close();
    }
  },

  /** a sends camera + mic to b. Kept open for the media scenarios below. */
  media: undefined as undefined | { p: Pair; local: LocalMedia; remoteTrack: MediaStreamTrack },

  async mediaSetup() {
    const p = pair();
    const local = new LocalMedia({ mediaDevices: navigator.mediaDevices });
    await local.start();
    const track = new Promise<MediaStreamTrack>((resolve) => p.b.on('track', (e) => e.track.kind === 'video' && resolve(e.track)));
    local.attach(p.a);
    const remoteTrack = await track;
    scenarios.media = { p, local, remoteTrack };
    return { camera: await aspectReceived(p.b, 4 / 3) };
  },

  /** Screen share replaces the camera on the sender; stopping (or the track ending) brings the camera back. */
  async screenShare() {
    const { p, local, remoteTrack } = scenarios.media!;
    const events: unknown[] = [];
    local.on('screen', (e) => events.push({ active: e.active }));
    const screen = await local.startScreenShare();
    const videoSender = () => p.a.pc.getSenders().find((s) => s.track?.kind === 'video' || s.track === null);
    const sharing = {
      settings: screen.getSettings(),
      senderHasScreen: videoSender()?.track === screen,
      received: await aspectReceived(p.b, 16 / 9),
    };
    await local.stopScreenShare();
    const stopped = {
      senderHasCamera: videoSender()?.track === local.cameraTrack,
      screenState: screen.readyState,
      received: await aspectReceived(p.b, 4 / 3),
    };
    // The browser's "Stop sharing" button ends the track; Chromium offers no way to press it
    // here, so the 'ended' event it would fire is dispatched by hand.
    const second = await local.startScreenShare();
    await aspectReceived(p.b, 16 / 9);
    second.dispatchEvent(new Event('ended'));
    const ended = {
      senderHasCamera: await waitFor('camera back', () => (videoSender()?.track === local.cameraTrack ? true : undefined)),
      received: await aspectReceived(p.b, 4 / 3),
    };
    return {
      sharing,
      stopped,
      ended,
      events,
      sameRemoteTrack: p.b.pc.getReceivers().some((r) => r.track === remoteTrack),
      transceivers: p.a.pc.getTransceivers().length,
    };
  },

  /** Mute and camera off flip enabled on the very tracks the senders carry; a device switch keeps it. */
  async muteAndSwitch() {
    const { p, local } = scenarios.media!;
    const sender = (kind: string) => p.a.pc.getSenders().find((s) => s.track?.kind === kind);
    local.setMicEnabled(false);
    local.setCameraEnabled(false);
    const muted = { audio: sender('audio')?.track?.enabled, video: sender('video')?.track?.enabled };
    const oldAudio = local.audioTrack!;
    const devices = await navigator.mediaDevices.enumerateDevices();
    const other = devices.find((d) => d.kind === 'audioinput' && d.deviceId !== oldAudio.getSettings().deviceId && d.deviceId !== 'default')!;
    const switched = await local.switchDevice('audioinput', other.deviceId);
    const afterSwitch = {
      senderHasNewTrack: sender('audio')?.track === switched,
      label: switched.label,
      stillMuted: sender('audio')?.track?.enabled === false,
      oldTrackState: oldAudio.readyState,
    };
    local.setMicEnabled(true);
    local.setCameraEnabled(true);
    const unmuted = { audio: sender('audio')?.track?.enabled, video: sender('video')?.track?.enabled };
    return { muted, afterSwitch, unmuted };
  },

  mediaTeardown() {
    scenarios.media?.local.stop();
    scenarios.media?.p.close();
    scenarios.media = undefined;
  },

  /** Raw getStats of a connected pair carrying data and video, twice, for report fixtures. */
  async recordStats() {
    const p = pair();
    const local = new LocalMedia({ mediaDevices: navigator.mediaDevices });
    try {
      await local.start({ video: true, audio: false });
      local.attach(p.a);
      const dc = p.a.createDataChannel('bulk');
      await framesFlowing(p.b);
      const sample = async () => [...(await p.a.pc.getStats()).values()] as unknown[];
      const first = await sample();
      for (let i = 0; i < 50; i++) if (dc.readyState === 'open') dc.send('x'.repeat(1000));
      await new Promise((r) => setTimeout(r, 1000));
      return { first, second: await sample() };
    } finally {
      local.stop();
      p.close();
    }
  },
};

Object.assign(globalThis, { scenarios });
