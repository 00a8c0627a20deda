/**
 * Runs in Chromium: the WHIP publisher of whip-entry.ts, and a WHEP player made of Eyevinn's
 * `@eyevinn/webrtc-player` (a library nobody here wrote) playing into a <video> element, with
 * the player's RTCPeerConnection kept (by wrapping the constructor) to read its getStats.
 */
import { WebRTCPlayer } from '@eyevinn/webrtc-player';
import './whip-entry.js';

const connections: RTCPeerConnection[] = [];
const Native = window.RTCPeerConnection;
window.RTCPeerConnection = class extends Native {
  constructor(config?: RTCConfiguration) {
    super(config);
    connections.push(this);
  }
} as typeof RTCPeerConnection;

let player: WebRTCPlayer | undefined;

const api = {
  async play(endpoint: string, token: string): Promise<void> {
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    document.body.append(video);
    // No STUN: the test runs on loopback with nothing outside to reach.
    player = new WebRTCPlayer({ video, type: 'whep', iceServers: [] });
    await player.load(new URL(endpoint), `Bearer ${token}`);
  },
  /** The player's inbound video: frames decoded, frame width, packets, and its connection state. */
  async received(): Promise<{ state: string; framesDecoded: number; width: number; packets: number; audioPackets: number }> {
    const pc = connections.at(-1);
    const result = { state: pc?.connectionState ?? 'none', framesDecoded: 0, width: 0, packets: 0, audioPackets: 0 };
    (await pc?.getStats())?.forEach((s: { type: string; kind?: string; framesDecoded?: number; frameWidth?: number; packetsReceived?: number }) => {
      if (s.type !== 'inbound-rtp') return;
      if (s.kind === 'video') {
        result.framesDecoded += s.framesDecoded ?? 0;
        result.width = Math.max(result.width, s.frameWidth ?? 0);
        result.packets += s.packetsReceived ?? 0;
      } else if (s.kind === 'audio') {
        result.audioPackets += s.packetsReceived ?? 0;
      }
    });
    return result;
  },
  async stop(): Promise<void> {
    await player?.unload();
  },
};
(window as unknown as { whep: typeof api }).whep = api;
