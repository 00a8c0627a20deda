/**
 * A ChannelHost pair over two real node-datachannel RTCPeerConnections wired directly to
 * each other in one process (loopback, no ICE servers, no signaling server).
 *
 * Negotiation convention: side `a` always offers. node-datachannel negotiates
 * automatically on the first createDataChannel of a connection and its polyfill supports
 * only one offer per RTCPeerConnection, so `a` creates a bootstrap channel to trigger the
 * offer, `b` answers, and nobody creates channels until both sides are connected (the
 * pair is returned, and 'reset' fires, only then). Either side may create channels after
 * that: SCTP streams need no renegotiation.
 *
 * `rebuild()` simulates what PeerConnection does where ICE cannot restart in place: both
 * connections close (every RTCDataChannel closes), fresh ones are built and connected, and
 * then both sides emit 'reset' with the new generation. It waits for the old connections
 * to report 'closed' before building new ones (await `close()` between tests for the same
 * reason), and retries a connect that stalls (up to 3 tries): in one process, a new
 * association racing an old one's teardown under load sometimes never connected (both
 * sides ended 'closed').
 */
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { Emitter } from '../../src/emitter.js';
import type { ChannelHost } from '../../src/data/host.js';

const BOOTSTRAP_LABEL = 'pinhole-test-bootstrap';

type HostEvents = { datachannel: RTCDataChannel; reset: { gen: number } };

export class TestHost extends Emitter<HostEvents> implements ChannelHost {
  /** @internal */ pc: RTCPeerConnection | undefined;
  gen = 0;
  readonly side: 'a' | 'b';
  /** Every channel ever created or received on this side (tests inspect them). */
  readonly created: RTCDataChannel[] = [];

  constructor(side: 'a' | 'b') {
    super();
    this.side = side;
  }

  createDataChannel(label: string, init?: RTCDataChannelInit): RTCDataChannel {
    if (!this.pc) throw new Error('test host: no connection');
    const dc = this.pc.createDataChannel(label, init) as unknown as RTCDataChannel;
    this.created.push(dc);
    return dc;
  }

  get connectionState(): RTCPeerConnectionState {
    return (this.pc?.connectionState as RTCPeerConnectionState | undefined) ?? 'new';
  }

  /** @internal */ attach(pc: RTCPeerConnection, gen: number): void {
    this.pc = pc;
    this.gen = gen;
    pc.addEventListener('datachannel', (event) => {
      const dc = (event as unknown as RTCDataChannelEvent).channel;
      if (pc !== this.pc || dc.label === BOOTSTRAP_LABEL) return;
      this.emit('datachannel', dc);
    });
  }

  /** @internal */ announceReset(): void {
    this.emit('reset', { gen: this.gen });
  }
}

export interface HostPair {
  a: TestHost;
  b: TestHost;
  /** Closes both connections, connects fresh ones, then emits 'reset' on both sides. */
  rebuild(): Promise<void>;
  /** Closes both connections; resolves once they report 'closed' (at most ~2 s). */
  close(): Promise<void>;
}

export async function connectPair(): Promise<HostPair> {
  const a = new TestHost('a');
  const b = new TestHost('b');
  let gen = 0;

  async function connect(): Promise<void> {
    gen += 1;
    const pa = new RTCPeerConnection();
    const pb = new RTCPeerConnection();
    a.attach(pa, gen);
    b.attach(pb, gen);
    // b may only take candidates after the offer is set; a after the answer.
    const pendingForB: RTCIceCandidateInit[] = [];
    const pendingForA: RTCIceCandidateInit[] = [];
    let bReady = false;
    let aReady = false;
    pa.addEventListener('icecandidate', (e) => {
      const c = (e as unknown as RTCPeerConnectionIceEvent).candidate;
      if (!c) return;
      if (bReady) void pb.addIceCandidate(c).catch(() => {});
      else pendingForB.push(c);
    });
    pb.addEventListener('icecandidate', (e) => {
      const c = (e as unknown as RTCPeerConnectionIceEvent).candidate;
      if (!c) return;
      if (aReady) void pa.addIceCandidate(c).catch(() => {});
      else pendingForA.push(c);
    });

    const bootstrap = pa.createDataChannel(BOOTSTRAP_LABEL);
    const opened = new Promise<void>((resolve) => bootstrap.addEventListener('open', () => resolve()));
    const offer = await pa.createOffer();
    await pb.setRemoteDescription(offer);
    bReady = true;
    for (const c of pendingForB.splice(0)) await pb.addIceCandidate(c).catch(() => {});
    const answer = await pb.createAnswer();
    await pa.setRemoteDescription(answer);
    aReady = true;
    for (const c of pendingForA.splice(0)) await pa.addIceCandidate(c).catch(() => {});
    await withTimeout(Promise.all([opened, connected(pa), connected(pb)]), 5_000, 'connect', () =>
      JSON.stringify({ a: [pa.connectionState, pa.iceConnectionState, pa.signalingState], b: [pb.connectionState, pb.iceConnectionState, pb.signalingState], bootstrap: bootstrap.readyState, pendingForA: pendingForA.length, pendingForB: pendingForB.length }),
    );
  }

  /** A connect that stalls is retried with fresh connections (see the note at the top). */
  async function connectWithRetry(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await connect();
      } catch (err) {
        a.pc?.close();
        b.pc?.close();
        if (attempt === 3) throw err;
      }
    }
  }

  async function closeBoth(): Promise<void> {
    const old = [a.pc, b.pc];
    for (const pc of old) pc?.close();
    await Promise.all(old.map((pc) => pc && closed(pc)));
  }

  await connectWithRetry();
  return {
    a,
    b,
    async rebuild() {
      // Let the old associations finish closing first: a fresh connection racing the old
      // one's teardown in the same process is what stalls.
      await closeBoth();
      await connectWithRetry();
      a.announceReset();
      b.announceReset();
    },
    async close() {
      await closeBoth();
      a.pc = undefined;
      b.pc = undefined;
    },
  };
}

function closed(pc: RTCPeerConnection): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (pc.connectionState !== 'closed') return;
      pc.removeEventListener('connectionstatechange', check);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      pc.removeEventListener('connectionstatechange', check);
      resolve();
    }, 2000);
    pc.addEventListener('connectionstatechange', check);
    check();
  });
}

function connected(pc: RTCPeerConnection): Promise<void> {
  if (pc.connectionState === 'connected') return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (pc.connectionState !== 'connected') return;
      pc.removeEventListener('connectionstatechange', check);
      resolve();
    };
    pc.addEventListener('connectionstatechange', check);
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string, detail: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`test host: ${what} timed out after ${ms} ms: ${detail()}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
