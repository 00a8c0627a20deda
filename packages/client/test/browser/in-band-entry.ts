/**
 * Runs inside Chromium (bundled by @pinhole/test-kit/browser): two rooms in one page, on
 * Chromium's RTCPeerConnection, connected by exchanging only the manual offer and answer
 * strings (ManualSignaler, which goes in-band by itself once the connection is up).
 * Afterwards everything the two strings cannot carry — renegotiation for a camera track and
 * a screen share, an in-place ICE restart — must go over the connection's control channel. The test drives
 * it through `window.scenarios`.
 */
import { ManualSignaler, Room, type RemotePeer } from '../../src/index.js';

function waitFor(what: string, probe: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (probe()) return resolve();
      if (performance.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

const ufrag = (sdp: string | undefined): string | undefined => /^a=ice-ufrag:(\S+)/m.exec(sdp ?? '')?.[1];

interface Side {
  signaler: ManualSignaler;
  room: Room;
  /** The other side as seen from here. */
  peer: RemotePeer;
  errors: string[];
  tracks: string[];
}

let sides: [Side, Side] | undefined;

/** Connects an offering and an answering room through the manual strings only. */
async function connectPair(): Promise<[Side, Side]> {
  const manuals = [new ManualSignaler({ role: 'offer' }), new ManualSignaler({ role: 'answer' })] as const;
  const made = manuals.map((signaler) => {
    const errors: string[] = [];
    signaler.on('error', (e) => void errors.push(`${(e as { code?: string }).code}: ${e.message}`));
    return { signaler, errors };
  });
  const options = { RTCPeerConnection: globalThis.RTCPeerConnection };
  const offering = await Room.join(made[0]!.signaler, 'in-band', {}, options);
  await manuals[1].remote(await manuals[0].local(10_000));
  const answering = await Room.join(made[1]!.signaler, 'in-band', {}, options);
  await manuals[0].remote(await manuals[1].local(10_000));
  const rooms = [offering, answering];
  const result = rooms.map((room, i) => {
    const peer = [...room.peers.values()][0]!;
    const side: Side = { ...made[i]!, room, peer, tracks: [] };
    room.on('track', ({ track }) => side.tracks.push(track.kind));
    peer.on('channel', (ch) => ch.on('message', ({ data }) => ch.send(`echo: ${String(data)}`)));
    return side;
  }) as [Side, Side];
  await waitFor('both connected, both control channels open', () =>
    result.every((s) => s.peer.connection?.connectionState === 'connected' && s.signaler.inBand(s.peer.id)?.open === true),
  );
  return result;
}

async function ask(side: Side, label: string, text: string): Promise<string> {
  const channel = side.peer.channel(label);
  const reply = new Promise<string>((resolve) => channel.once('message', (m) => resolve(String(m.data))));
  channel.send(text);
  return reply;
}

async function framesDecoded(side: Side): Promise<number> {
  let frames = 0;
  (await side.peer.connection!.pc.getStats()).forEach((s: { type: string; kind?: string; framesDecoded?: number }) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0;
  });
  return frames;
}

const status = (s: Side) => s.signaler.inBand(s.peer.id);

const scenarios = {
  /**
   * The offering side adds its camera, then the answering (polite) side shares its screen:
   * each is a renegotiation (a new transceiver) whose offer and answer travel in-band.
   */
  async renegotiate() {
    const [a, b] = (sides = await connectPair());
    const before = [status(a)!, status(b)!];
    const camera = await navigator.mediaDevices.getUserMedia({ video: true });
    a.peer.connection!.pc.addTrack(camera.getVideoTracks()[0]!, camera);
    await waitFor('the camera at the answering side', () => b.tracks.includes('video'));
    const screen = await navigator.mediaDevices.getDisplayMedia({ video: true });
    // A transceiver of its own (addTrack would reuse the camera's, which b only receives on).
    b.peer.connection!.pc.addTransceiver(screen.getVideoTracks()[0]!, { direction: 'sendonly', streams: [screen] });
    await waitFor('the screen at the offering side', () => a.tracks.includes('video'));
    const deadline = performance.now() + 15_000;
    let frames = [0, 0];
    while (performance.now() < deadline && !(frames[0]! > 0 && frames[1]! > 0)) {
      frames = [await framesDecoded(a), await framesDecoded(b)];
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitFor('stable', () => a.peer.connection!.pc.signalingState === 'stable' && b.peer.connection!.pc.signalingState === 'stable');
    return {
      before,
      after: [status(a), status(b)],
      transceivers: [a.peer.connection!.pc.getTransceivers().length, b.peer.connection!.pc.getTransceivers().length],
      framesDecoded: frames,
      connectionState: [a.peer.connection!.connectionState, b.peer.connection!.connectionState],
      gen: [a.peer.connection!.gen, b.peer.connection!.gen],
      echo: await ask(a, 'after-renegotiation', 'still here'),
      errors: [a.errors, b.errors],
    };
  },

  /** The offering side restarts ICE in place (as after a network change); the new credentials go in-band. */
  async iceRestart() {
    const [a, b] = (sides = await connectPair());
    const pc = a.peer.connection!.pc;
    const before = { local: ufrag(pc.localDescription?.sdp), remote: ufrag(pc.remoteDescription?.sdp) };
    const sentBefore = status(a)!.sent;
    const restarts: unknown[] = [];
    a.peer.connection!.on('restart', (e) => restarts.push(e));
    a.room.restartIce('network-change');
    await waitFor('new remote ICE credentials', () => ufrag(pc.remoteDescription?.sdp) !== before.remote);
    await waitFor('connected', () => a.peer.connection!.connectionState === 'connected' && b.peer.connection!.connectionState === 'connected');
    return {
      restarts,
      samePc: a.peer.connection!.pc === pc,
      before,
      after: { local: ufrag(pc.localDescription?.sdp), remote: ufrag(pc.remoteDescription?.sdp) },
      sentInBand: status(a)!.sent - sentBefore,
      receivedInBand: status(b)!.received,
      connectionState: [a.peer.connection!.connectionState, b.peer.connection!.connectionState],
      echo: await ask(a, 'after-restart', 'still here'),
      errors: [a.errors, b.errors],
    };
  },

  /** A garbage frame on the control channel: refused, answered, and the connection goes on. */
  async garbage() {
    const [a, b] = (sides = await connectPair());
    a.peer.connection!.control.send('{"pinhole":"rtc","gen":0,"description":{"type":"offer","sdp":"not an sdp"}}');
    await waitFor('the error and its answer', () => a.errors.length > 0 && b.errors.length > 0);
    return {
      errors: [a.errors, b.errors],
      connectionState: [a.peer.connection!.connectionState, b.peer.connection!.connectionState],
      echo: await ask(b, 'after-garbage', 'still here'),
    };
  },

  async close() {
    for (const side of sides ?? []) {
      await side.room.leave();
      await side.signaler.close();
    }
    sides = undefined;
  },
};

(window as unknown as { scenarios: typeof scenarios }).scenarios = scenarios;
