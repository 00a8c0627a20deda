/**
 * Runs in Chromium on a network-namespace host (test-kit netns/chromium.ts: `globalThis.peer`):
 * a WHIP publisher of the fake camera as three-layer VP8 simulcast (RIDs q, h, f with
 * scaleResolutionDownBy 4, 2, 1, as browsers and OBS ≥ 31 send it), and a WHEP viewer, both
 * plain RTCPeerConnection + fetch (RFC 9725 and draft-ietf-wish-whep: a complete offer POSTed
 * as application/sdp, the answer applied). getStats tells what each side sends and decodes.
 */

const gathered = (pc: RTCPeerConnection): Promise<void> =>
  new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
  });

/** Offers `pc`'s transceivers to `endpoint` and applies the answer; returns the session's Location. */
async function exchange(pc: RTCPeerConnection, endpoint: string, token: string): Promise<string> {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/sdp' },
    body: pc.localDescription!.sdp,
  });
  if (res.status !== 201) throw new Error(`POST ${endpoint}: ${res.status} ${await res.text()}`);
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  return new URL(res.headers.get('location')!, endpoint).href;
}

let publisher: RTCPeerConnection | undefined;
let viewer: RTCPeerConnection | undefined;
/** Every frame the viewer's <video> presented: [Date.now(), width]. */
const presented: [number, number][] = [];

function watchFrames(video: HTMLVideoElement): void {
  const next = (): void => {
    video.requestVideoFrameCallback((_now, frame) => {
      presented.push([Date.now(), frame.width]);
      next();
    });
  };
  next();
}

const peer = {
  /** Publishes the fake camera at 1280×720 as q (320), h (640) and f (1280), and the microphone. */
  async publish(endpoint: string, token: string): Promise<string> {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720, frameRate: 30 } });
    const pc = (publisher = new RTCPeerConnection());
    const [video] = stream.getVideoTracks();
    video!.contentHint = 'detail';
    const vt = pc.addTransceiver(video!, {
      direction: 'sendonly',
      streams: [stream],
      sendEncodings: [
        { rid: 'q', scaleResolutionDownBy: 4 },
        { rid: 'h', scaleResolutionDownBy: 2 },
        { rid: 'f', scaleResolutionDownBy: 1 },
      ],
    });
    vt.setCodecPreferences(RTCRtpSender.getCapabilities('video')!.codecs.filter((c) => /vp8|rtx/i.test(c.mimeType)));
    const params = vt.sender.getParameters();
    params.degradationPreference = 'maintain-resolution';
    await vt.sender.setParameters(params);
    pc.addTransceiver(stream.getAudioTracks()[0]!, { direction: 'sendonly', streams: [stream] });
    return exchange(pc, endpoint, token);
  },
  /** The publisher's video layers: RID, width, frames encoded. */
  async outbound(): Promise<{ rid?: string; width?: number; frames?: number }[]> {
    const out: { rid?: string; width?: number; frames?: number }[] = [];
    (await publisher!.getStats()).forEach((s: { type: string; kind?: string; rid?: string; frameWidth?: number; framesEncoded?: number }) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') out.push({ rid: s.rid, width: s.frameWidth, frames: s.framesEncoded });
    });
    return out;
  },
  /** Watches over WHEP: recvonly audio and video, the video into a <video> element. */
  async play(endpoint: string, token: string): Promise<string> {
    const pc = (viewer = new RTCPeerConnection());
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.ontrack = ({ track }) => {
      if (track.kind !== 'video') return;
      const el = document.createElement('video');
      el.muted = true;
      el.autoplay = true;
      el.srcObject = new MediaStream([track]);
      document.body.append(el);
      watchFrames(el);
    };
    return exchange(pc, endpoint, token);
  },
  /** The viewer's inbound video: connection state, frames decoded, the last decoded frame's width, bytes. */
  async inbound(): Promise<{ state: string; frames: number; width: number; bytes: number }> {
    const result = { state: viewer?.connectionState ?? 'none', frames: 0, width: 0, bytes: 0 };
    (await viewer?.getStats())?.forEach((s: { type: string; kind?: string; framesDecoded?: number; frameWidth?: number; bytesReceived?: number }) => {
      if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
      result.frames += s.framesDecoded ?? 0;
      result.width = s.frameWidth ?? 0;
      result.bytes += s.bytesReceived ?? 0;
    });
    return result;
  },
  /** How many frames of each width the viewer presented since `since` (Date.now()), and the last one's width. */
  presentedSince(since: number): { widths: Record<number, number>; last: number } {
    const widths: Record<number, number> = {};
    for (const [at, width] of presented) if (at >= since) widths[width] = (widths[width] ?? 0) + 1;
    return { widths, last: presented.at(-1)?.[1] ?? 0 };
  },
};

(globalThis as unknown as { peer: typeof peer }).peer = peer;
