/**
 * Runs inside Chromium (bundled by @pinhole/test-kit/browser): what a browser application does
 * to meet peers through an MQTT broker — mqtt.js's browser build (`import mqtt from 'mqtt'`,
 * which esbuild resolves to its `browser` export) handed to the SDK's MqttSignaler over
 * MQTT-over-WebSocket, optionally sealed with a room passphrase, and a Room on Chromium's
 * RTCPeerConnection. The test drives it through `window.pinhole`.
 */
import mqtt from 'mqtt';
import { Emitter, MqttSignaler, Room, SealedSignaler, type Signaler } from '../../src/index.js';

let signaler: Signaler | undefined;
let room: Room | undefined;
const events: string[] = [];
const errors: string[] = [];

const api = {
  /** Connects to the broker at `url` (ws://), sealed when `passphrase` is given, and joins `name`. */
  async join(url: string, name: string, passphrase?: string) {
    events.length = 0;
    errors.length = 0;
    const mqttSignaler = await new MqttSignaler({ url, connect: mqtt.connect }).open();
    signaler = passphrase ? new SealedSignaler(mqttSignaler, { passphrase }) : mqttSignaler;
    // Both the MQTT and the sealed signaler emit typed `error` events (SignalingError).
    (signaler as unknown as Emitter<{ error: Error & { code?: string } }>).on('error', (e) => void errors.push(`${e.code}: ${e.message}`));
    room = await Room.join(signaler, name, { name: 'chromium' }, { RTCPeerConnection: globalThis.RTCPeerConnection });
    room.on('peer-joined', (peer) => {
      events.push(`joined ${peer.id} ${JSON.stringify(peer.meta)}`);
      echo(peer);
    });
    room.on('peer-left', ({ peer, reason }) => events.push(`left ${peer.id} ${reason}`));
    for (const peer of room.peers.values()) echo(peer);
    return { peerId: signaler.localId, transport: signaler.transport, peers: [...room.peers.keys()] };
  },

  /** Presence events seen so far ('joined <id> <meta>', 'left <id> <reason>'). */
  events: () => [...events],
  errors: () => [...errors],

  /** Sends `text` on the 'echo' channel to `peerId` and resolves with the first reply. */
  async ask(peerId: string, text: string) {
    const peer = room!.peers.get(peerId)!;
    const channel = peer.channel('ask');
    const reply = new Promise<string>((resolve) => channel.once('message', (m) => resolve(String(m.data))));
    channel.send(text);
    return reply;
  },

  async report(peerId: string) {
    return room!.peers.get(peerId)!.report();
  },

  async leave() {
    await room?.leave();
    await signaler?.close();
    room = signaler = undefined;
  },
};

/** Answers every message on every channel the peer opens with 'echo: <message>'. */
function echo(peer: NonNullable<Room>['peers'] extends Map<string, infer P> ? P : never): void {
  peer.on('channel', (channel) => channel.on('message', ({ data }) => channel.send(`echo: ${String(data)}`)));
}

(window as unknown as { pinhole: typeof api }).pinhole = api;
