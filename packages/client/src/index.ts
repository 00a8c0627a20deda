/**
 * @pinhole/client for browsers: `connect(url, options)` with the browser's WebSocket,
 * fetch and RTCPeerConnection. (Node resolves to ./node.ts through package exports.)
 */
import { Session, type ConnectOptions } from './session.js';
import type { HubUrls } from './signaling/hub-connection.js';
import { browserPlatform } from './signaling/platform.js';

export * from './exports.js';

/** Connects to a Pinhole hub (`https://host:8443`, or the nodes of a cluster as a list) and opens a session. */
export async function connect(url: HubUrls, options: ConnectOptions = {}): Promise<Session> {
  const session = new Session(url, {
    platform: browserPlatform(),
    RTCPeerConnection: globalThis.RTCPeerConnection,
    onNetworkChange: browserNetworkChanges,
    ...options,
  });
  return session.open();
}

/** `online` events and Network Information API changes (where the browser has it). */
function browserNetworkChanges(listener: () => void): () => void {
  const connection = (navigator as { connection?: EventTarget }).connection;
  globalThis.addEventListener?.('online', listener);
  connection?.addEventListener('change', listener);
  return () => {
    globalThis.removeEventListener?.('online', listener);
    connection?.removeEventListener('change', listener);
  };
}
