/**
 * Runs inside Chromium (bundled by @pinhole/test-kit/browser): the browser build of the SDK
 * (`connect` from src/index.ts, the browser's WebSocket, fetch and RTCPeerConnection)
 * against a real hub, with a Node peer on the other side. The test drives it through
 * `window.pinhole`.
 */
import { blobSink, connect, type Room, type Session } from '../../src/index.js';

let session: Session | undefined;
let room: Room | undefined;
const echoes: string[] = [];

/**
 * Every request the SDK makes: the types of the frames its body carried, and the
 * `pinhole-last-id` of poll answers as the page can read it (CORS).
 */
const requests: { method: string; path: string; frames: string[]; status: number; lastId: string | null }[] = [];
const pageFetch = window.fetch.bind(window);
window.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
  const res = await pageFetch(input, init);
  const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
  const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as { type: string } | { type: string }[]) : [];
  const frames = (Array.isArray(body) ? body : [body]).map((f) => f.type);
  requests.push({ method: init?.method ?? 'GET', path, frames, status: res.status, lastId: res.headers.get('pinhole-last-id') });
  return res;
};

async function sha256Hex(blob: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

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

const api = {
  /** Opens a session with the ladder (default: all rungs) and reports the rung it settled on. */
  async open(url: string, transports?: ('ws' | 'sse' | 'poll')[]) {
    echoes.length = 0;
    requests.length = 0;
    delete (window as unknown as { received?: unknown }).received;
    session = await connect(url, transports ? { transports } : {});
    return { transport: session.transport, peerId: session.peerId };
  },

  /**
   * Joins `name`; answers every message on the 'echo' channel; accepts every file into a
   * Blob. `connect: false`: no peer connections (hub messages only).
   */
  async join(name: string, options: { connect?: boolean } = {}) {
    room = await session!.join(name, { name: 'chromium' }, options);
    room.on('file', ({ transfer }) => {
      transfer.accept(blobSink());
      const progress: number[] = [];
      transfer.on('progress', (p) => progress.push(p.bytes));
      void transfer.finished().then(async (result) => {
        const blob = result.result as Blob;
        (window as unknown as { received: unknown }).received = {
          name: transfer.name,
          size: blob.size,
          sha256: await sha256Hex(blob),
          announced: result.sha256,
          progressEvents: progress.length,
          lastProgress: progress.at(-1),
        };
      });
    });
    const hook = (peer: NonNullable<Room>['peers'] extends Map<string, infer P> ? P : never) =>
      peer.channel('echo').on('message', ({ data }) => {
        echoes.push(String(data));
        peer.channel('echo').send(`echo: ${String(data)}`);
      });
    for (const peer of room.peers.values()) hook(peer);
    room.on('peer-joined', hook);
    return { peers: [...room.peers.keys()] };
  },

  async received() {
    await waitFor('the file', () => (window as unknown as { received?: unknown }).received !== undefined, 30_000);
    return (window as unknown as { received: unknown }).received;
  },

  async report(peerId: string) {
    const peer = room!.peers.get(peerId)!;
    await waitFor('connected', () => peer.connection?.connectionState === 'connected');
    return peer.report();
  },

  /** Repairs the connection to every member as after a network change, then waits until connected again. */
  async restartIce(peerId: string) {
    const peer = room!.peers.get(peerId)!;
    const restarts: unknown[] = [];
    peer.connection!.on('restart', (e) => restarts.push(e));
    room!.restartIce('network-change');
    await waitFor('a restart', () => restarts.length > 0);
    await waitFor('connected again', () => peer.connection?.connectionState === 'connected');
    return { restarts };
  },

  echoes: () => echoes,

  /** Answers every hub message at once, from inside the handler. */
  echoHubMessages() {
    room!.on('message', ({ from, data }) => room!.send(from, { echo: data }));
  },

  requests: () => requests,

  async close() {
    await session?.close();
  },
};

(window as unknown as { pinhole: typeof api }).pinhole = api;
