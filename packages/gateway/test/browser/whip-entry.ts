/**
 * Runs in Chromium: publishes the fake camera and microphone with Eyevinn's WHIP client
 * (`@eyevinn/whip-web-client`, a library nobody here wrote), as a browser-based studio would.
 */
import { WHIPClient } from '@eyevinn/whip-web-client';

let client: WHIPClient | undefined;
let pc: RTCPeerConnection | undefined;

const api = {
  async publish(endpoint: string, token: string): Promise<string> {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
    client = new WHIPClient({
      endpoint,
      opts: { authkey: token, iceGatheringTimeout: 4000 },
      peerConnectionFactory: (config) => (pc = new RTCPeerConnection(config)),
    });
    await client.ingest(stream);
    return client.getResourceUrl();
  },
  /** Sent packets and frames of the video sender, and the connection's state. */
  async sent(): Promise<{ state: string; packets: number; frames: number }> {
    let packets = 0;
    let frames = 0;
    (await pc!.getStats()).forEach((s: { type: string; kind?: string; packetsSent?: number; framesEncoded?: number }) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        packets += s.packetsSent ?? 0;
        frames += s.framesEncoded ?? 0;
      }
    });
    return { state: pc!.connectionState, packets, frames };
  },
  async stop(): Promise<void> {
    await client?.destroy();
  },
};
(window as unknown as { whip: typeof api }).whip = api;
