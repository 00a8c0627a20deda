/**
 * A small WHEP player (draft-ietf-wish-whep) for the watch page: a recvonly audio + video
 * offer, POSTed as `application/sdp` once ICE gathering is done (the server takes trickled
 * candidates too, but a complete offer needs none), the answer applied; the session is the
 * resource at `Location`, DELETEd on stop. The gateway's endpoints are in docs/whip-whep.md.
 */

/** A refusal from the gateway: its HTTP status and the error `code` of its JSON body. */
export class WhepError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'WhepError';
  }
}

export interface WhepSession {
  readonly pc: RTCPeerConnection;
  /** The publisher's tracks, as they arrive. */
  readonly stream: MediaStream;
  /** Ends the session: DELETE of the resource (sent even while the page unloads), then the connection closes. Idempotent. */
  stop(): void;
}

/** What the watch page needs to know of a room without a session (`GET /v1/whep/{room}`). */
export interface WhepRoomStatus {
  /** How many watch it. */
  viewers: number;
  /** Someone sends video: a POST would find the featured publisher. */
  video: boolean;
}

/** Longest wait for ICE gathering before the offer goes anyway (with the candidates found so far). */
const GATHER_MS = 3000;

async function refusal(res: Response): Promise<WhepError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (typeof body.code === 'string' && typeof body.message === 'string') return new WhepError(res.status, body.code, body.message);
  } catch {
    // not the gateway's JSON (a proxy's page, say): the status says enough
  }
  return new WhepError(res.status, 'http', `HTTP ${res.status}`);
}

function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = (): void => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, GATHER_MS);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

/** `GET endpoint`: the room's viewer count and whether it has video. Throws WhepError. */
export async function roomStatus(endpoint: string, headers: Record<string, string> = {}): Promise<WhepRoomStatus> {
  const res = await fetch(endpoint, { headers, cache: 'no-store' });
  if (res.status !== 200) throw await refusal(res);
  const body = (await res.json()) as Partial<WhepRoomStatus>;
  return { viewers: typeof body.viewers === 'number' ? body.viewers : 0, video: body.video === true };
}

/** Starts watching: POST of the offer to `endpoint` (`/v1/whep/{room}`). Throws WhepError (404 `not-found`: nobody sends video there). */
export async function startWhep(endpoint: string, headers: Record<string, string> = {}): Promise<WhepSession> {
  const pc = new RTCPeerConnection();
  const stream = new MediaStream();
  pc.addEventListener('track', ({ track }) => stream.addTrack(track));
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const res = await fetch(endpoint, { method: 'POST', headers: { ...headers, 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
    if (res.status !== 201) throw await refusal(res);
    const location = res.headers.get('location');
    if (location === null) throw new WhepError(res.status, 'http', 'the server gave no Location for the session');
    const resource = new URL(location, endpoint).href;
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    let stopped = false;
    return {
      pc,
      stream,
      stop() {
        if (stopped) return;
        stopped = true;
        // keepalive: the DELETE still goes when this runs in pagehide.
        void fetch(resource, { method: 'DELETE', headers, keepalive: true }).catch(() => undefined);
        pc.close();
      },
    };
  } catch (err) {
    pc.close();
    throw err;
  }
}
