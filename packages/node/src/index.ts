/**
 * @pinhole/node: @pinhole/client for Node 20 — WebRTC from node-datachannel out of the box (or pass
 * another RTCPeerConnection), signaling through HTTPS_PROXY / HTTP_PROXY / NO_PROXY, a
 * custom CA or `insecure` for a self-signed dev hub, and network-change detection.
 */
import { networkInterfaces } from 'node:os';
import { PeerConnection as NativePeerConnection } from 'node-datachannel';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { connect as mqttConnect } from 'mqtt';
import { MqttSignaler, Session, type ConnectOptions, type HubUrls, type MqttSignalerOptions, type RTCPeerConnectionConstructor } from '@pinhole/client';
import { INTERFACE_POLL_MS } from '@pinhole/client/broker';
import { nodeSha256 } from '@pinhole/client/node-fs';
import { nodePlatform, type NodeTlsOptions } from './node-platform.js';
import { RedisSignaler, type RedisSignalerOptions } from './redis.js';

export * from '@pinhole/client';
export { nodeFileSink, nodeFileSource, nodeSha256, type NodeFileSinkOptions } from '@pinhole/client/node-fs';
export { nodePlatform, proxyFor, type NodeTlsOptions } from './node-platform.js';
export { RedisSignaler, type RedisSignalerOptions } from './redis.js';

export type NodeConnectOptions = ConnectOptions & NodeTlsOptions;

/** Connects to a Pinhole hub (`https://host:8443`) and opens a session. */
export async function connect(url: HubUrls, options: NodeConnectOptions = {}): Promise<Session> {
  const { ca, insecure, proxy, ...rest } = options;
  const session = new Session(url, {
    platform: nodePlatform({ ca, insecure, proxy }),
    RTCPeerConnection: NodeRTCPeerConnection,
    onNetworkChange: watchInterfaces,
    ...rest,
    files: { sha256: nodeSha256, ...rest.files },
  });
  return session.open();
}

/**
 * node-datachannel's RTCPeerConnection, driven the W3C way: libdatachannel's automatic
 * negotiation is off, so a description exists only when `setLocalDescription()` asks for it.
 * Why: with it on, the polite side's first data channel makes an offer of its own, which
 * starts its ICE agent in the controlling role; after the remote offer rolls that back the
 * agent stays controlling, so both agents were controlling on every connect (STUN 487 role
 * conflicts in libjuice's log), which cost one 50 ms ICE pacing interval in about half of
 * the connects (bench/client/open.mjs).
 *
 * Also: TURN credentials are percent-encoded, because libdatachannel reads
 * `turn:USER:PASS@host` and cuts at the first ':', which TURN REST usernames
 * (`expiry:identity`) contain. (libjuice, which the prebuilt package uses, relays over UDP
 * only: `turn:…?transport=tcp` and `turns:` servers are skipped by it.)
 */
export const NodeRTCPeerConnection: RTCPeerConnectionConstructor = class extends (RTCPeerConnection as unknown as RTCPeerConnectionConstructor) {
  readonly #native: NativePeerConnection;

  constructor(configuration: RTCConfiguration = {}) {
    const native = nativePeerConnection(configuration);
    // The polyfill wraps a native connection it is given (its documented `peerConnection` option).
    super({ ...configuration, peerConnection: native } as RTCConfiguration);
    this.#native = native;
  }

  /** No argument: an answer in 'have-remote-offer', else an offer (webrtc-pc's implicit description). */
  override async setLocalDescription(description?: RTCLocalSessionDescriptionInit): Promise<void> {
    const type = description?.type ?? (this.signalingState === 'have-remote-offer' ? 'answer' : 'offer');
    if (type === 'offer' || type === 'answer') this.#native.setLocalDescription(type);
  }
};

let connections = 0;

function nativePeerConnection(configuration: RTCConfiguration): NativePeerConnection {
  const iceServers = (configuration.iceServers ?? []).flatMap((server) =>
    (Array.isArray(server.urls) ? server.urls : [server.urls]).map((url) => {
      if (!server.username || typeof server.credential !== 'string') return url;
      const [scheme, rest] = url.split(/:(.*)/s);
      return `${scheme}:${encodeURIComponent(server.username)}:${encodeURIComponent(server.credential)}@${rest}`;
    }),
  );
  try {
    return new NativePeerConnection(`pinhole-${++connections}`, {
      iceServers,
      iceTransportPolicy: configuration.iceTransportPolicy ?? 'all',
      disableAutoNegotiation: true,
    });
  } catch (err) {
    throw new SyntaxError(`invalid RTCConfiguration: ${(err as Error).message}`);
  }
}

/** Polls the interface list (Node has no event for it); fires when addresses change. */
export function watchInterfaces(listener: () => void, everyMs = INTERFACE_POLL_MS): () => void {
  const snapshot = (): string =>
    JSON.stringify(
      Object.entries(networkInterfaces())
        .flatMap(([name, addrs]) => (addrs ?? []).filter((a) => !a.internal).map((a) => `${name}/${a.address}`))
        .sort(),
    );
  let last = snapshot();
  const timer = setInterval(() => {
    const now = snapshot();
    if (now !== last) {
      last = now;
      listener();
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Opens an MQTT signaler (mqtt.js over TCP/TLS or WebSocket) to `url`, e.g. `mqtt://broker:1883`. */
export async function connectMqtt(url: string, options: Omit<MqttSignalerOptions, 'url' | 'connect'> = {}): Promise<MqttSignaler> {
  return new MqttSignaler({ url, connect: mqttConnect, ...options }).open();
}

/** Opens a Redis pub/sub signaler (Node only) to `url`, e.g. `redis://host:6379` or `rediss://…`. */
export async function connectRedis(url: string, options: Omit<RedisSignalerOptions, 'url'> = {}): Promise<RedisSignaler> {
  return new RedisSignaler({ url, ...options }).open();
}
