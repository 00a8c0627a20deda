/**
 * @pinhole/client for Node 20: WebRTC from node-datachannel out of the box (or pass
 * another RTCPeerConnection), signaling through HTTPS_PROXY / HTTP_PROXY / NO_PROXY, a
 * custom CA or `insecure` for a self-signed dev hub, and network-change detection.
 */
import { networkInterfaces } from 'node:os';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { Session, type ConnectOptions } from './session.js';
import { nodePlatform, type NodeTlsOptions } from './signaling/node-platform.js';
import type { RTCPeerConnectionConstructor } from './peer/peer-connection.js';

export * from './exports.js';
export { nodePlatform, type NodeTlsOptions } from './signaling/node-platform.js';

export type NodeConnectOptions = ConnectOptions & NodeTlsOptions;

/** Connects to a Pinhole hub (`https://host:8443`) and opens a session. */
export async function connect(url: string, options: NodeConnectOptions = {}): Promise<Session> {
  const { ca, insecure, proxy, ...rest } = options;
  const session = new Session(url, {
    platform: nodePlatform({ ca, insecure, proxy }),
    RTCPeerConnection: RTCPeerConnection as unknown as RTCPeerConnectionConstructor,
    onNetworkChange: watchInterfaces,
    ...rest,
  });
  return session.open();
}

/** Polls the interface list (Node has no event for it); fires when addresses change. */
export function watchInterfaces(listener: () => void, everyMs = 3000): () => void {
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
