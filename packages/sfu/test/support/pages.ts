/**
 * Chromium pages that publish to and subscribe from the SFU with plain RTCPeerConnection code
 * (no SDK yet: the hub integration is the next slice). Served by request interception on
 * http://localhost, a secure context, so getUserMedia works with the fake camera.
 */
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM_ARGS, launchChromium } from '@pinhole/test-kit/browser';

export { CHROMIUM_ARGS, launchChromium };

const PAGE = 'http://localhost/sfu-test';

/** Runs in the page: RTCPeerConnection helpers the tests call with page.evaluate. */
const SCRIPT = `
const gathered = (pc) => new Promise((resolve) => {
  if (pc.iceGatheringState === 'complete') return resolve();
  pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
});
window.sfuTest = {
  pc: null,
  bitrateHint: true,
  remb: true,
  async publishOffer(layers, width = 1280, height = 720) {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width, height, frameRate: 30 } });
    const pc = (this.pc = new RTCPeerConnection());
    const [video] = stream.getVideoTracks();
    video.contentHint = 'detail';
    const sendEncodings = layers
      ? [{ rid: 'q', scaleResolutionDownBy: 4 }, { rid: 'h', scaleResolutionDownBy: 2 }, { rid: 'f' }]
      : undefined;
    const vt = pc.addTransceiver(video, { direction: 'sendonly', streams: [stream], sendEncodings });
    const vp8 = RTCRtpSender.getCapabilities('video').codecs.filter((c) => /vp8|rtx/i.test(c.mimeType));
    vt.setCodecPreferences(vp8);
    const params = vt.sender.getParameters();
    params.degradationPreference = 'maintain-resolution';
    await vt.sender.setParameters(params);
    pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly', streams: [stream] });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    return pc.localDescription.sdp;
  },
  /** Publisher renegotiation: a second video track (a screen share, say) on the same connection; returns the new offer. */
  async addVideo(width = 320, height = 240) {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width, height, frameRate: 15 } });
    const t = this.pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly', streams: [stream] });
    t.setCodecPreferences(RTCRtpSender.getCapabilities('video').codecs.filter((c) => /vp8|rtx/i.test(c.mimeType)));
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await gathered(this.pc);
    return this.pc.localDescription.sdp;
  },
  /** Publisher renegotiation: stops the last video transceiver (its section goes to port 0); returns the new offer. */
  async stopLastVideo() {
    const t = this.pc.getTransceivers().filter((t) => !t.stopped && t.sender.track?.kind === 'video').at(-1);
    t.stop();
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await gathered(this.pc);
    return this.pc.localDescription.sdp;
  },
  /** A subscriber session: one RTCPeerConnection answering every offer of the SFU. */
  async answerSession(sdp) {
    // Without goog-remb in the offer Chromium sends no REMB, and the SFU forwards the layer asked for.
    if (!this.remb) sdp = sdp.replace(/a=rtcp-fb:\\d+ goog-remb\\r\\n/g, '');
    if (!this.pc) {
      const pc = (this.pc = new RTCPeerConnection());
      this.ontrack = [];
      pc.ontrack = (e) => {
        this.ontrack.push({ mid: e.transceiver.mid, kind: e.track.kind });
        const el = document.createElement(e.track.kind);
        el.autoplay = true;
        el.muted = e.track.kind === 'video';
        el.srcObject = new MediaStream([e.track]);
        document.body.append(el);
      };
    }
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await gathered(this.pc);
    return this.pc.localDescription.sdp;
  },
  /** Inbound RTP streams by SSRC: their section (mid), frames decoded, audio energy. */
  async inboundBySsrc() {
    const out = {};
    (await this.pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp') out[s.ssrc] = { mid: s.mid, kind: s.kind, packets: s.packetsReceived, frames: s.framesDecoded, width: s.frameWidth, energy: s.totalAudioEnergy };
    });
    return out;
  },
  async acceptAnswer(sdp) {
    // Chromium starts at 300 kbit/s, sending the lowest layer only, until the SFU's REMB raises its
    // estimate (all layers within seconds): these fmtp hints (Chromium's own) give it 2.5 Mbit/s
    // from the first second, for tests about something else.
    if (this.bitrateHint) sdp = sdp.replace(/a=rtpmap:(\\d+) VP8\\/90000\\r\\n/, (line, pt) => line + 'a=fmtp:' + pt + ' x-google-start-bitrate=2500;x-google-min-bitrate=2500;x-google-max-bitrate=4000\\r\\n');
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
  },
  async answerOffer(sdp) {
    // Without goog-remb in the offer Chromium sends no REMB, and the SFU forwards the layer asked for.
    if (!this.remb) sdp = sdp.replace(/a=rtcp-fb:\\d+ goog-remb\\r\\n/g, '');
    const pc = (this.pc = new RTCPeerConnection());
    this.received = [];
    pc.ontrack = (e) => {
      this.received.push(e.track.kind);
      const el = document.createElement(e.track.kind);
      el.autoplay = true;
      el.muted = e.track.kind === 'video';
      el.srcObject = new MediaStream([e.track]);
      document.body.append(el);
    };
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    return pc.localDescription.sdp;
  },
  async addCandidates(candidates) {
    for (const c of candidates) await this.pc.addIceCandidate(c);
  },
  async inbound() {
    const out = {};
    (await this.pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp') out[s.kind] = { packets: s.packetsReceived, frames: s.framesDecoded, width: s.frameWidth, height: s.frameHeight, energy: s.totalAudioEnergy, samples: s.totalSamplesReceived, freezes: s.freezeCount };
    });
    return out;
  },
  async outbound() {
    const out = [];
    (await this.pc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') out.push({ rid: s.rid, width: s.frameWidth, frames: s.framesEncoded, active: s.active, limit: s.qualityLimitationReason, target: s.targetBitrate });
      if (s.type === 'candidate-pair' && s.nominated) out.push({ available: s.availableOutgoingBitrate });
    });
    return out;
  },
  state() { return this.pc.connectionState; },
  close() { this.pc.close(); },
};
`;

export interface TestPage {
  page: Page;
  call<T>(expression: string): Promise<T>;
}

export async function openPage(browser: Browser, name: string): Promise<TestPage> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (m) => m.type() === 'error' && console.error(`[${name}] ${m.text()}`));
  await page.route(`${PAGE}**`, (route) =>
    route.fulfill({ contentType: 'text/html', body: `<!doctype html><meta charset="utf-8"><body><script>${SCRIPT}</script></body>` }),
  );
  await page.goto(PAGE);
  return { page, call: (expression) => page.evaluate(expression) };
}

/** The part of Room a page subscriber drives. */
interface SessionRoom {
  subscribe(peer: string, publisher: string, signals: import('../../src/index.js').SessionSignals, options?: { layer?: string }): Promise<void>;
  acceptAnswer(peer: string, answerSdp: string): Promise<void>;
}

export interface PageSubscriber {
  offers: import('../../src/index.js').SessionOffer[];
  /** Answers applied, and errors of answering. */
  answered: number;
  errors: unknown[];
  subscribe(publisher: string, options?: { layer?: string }): Promise<void>;
}

/** `name`'s subscriber session answered by `page` (sfuTest.answerSession), one RTCPeerConnection for all its offers. */
export function pageSubscriber(room: SessionRoom, name: string, page: TestPage): PageSubscriber {
  let chain: Promise<unknown> = Promise.resolve();
  const s: PageSubscriber = {
    offers: [],
    answered: 0,
    errors: [],
    subscribe: (publisher, options) => room.subscribe(name, publisher, signals, options),
  };
  const signals: import('../../src/index.js').SessionSignals = {
    offer: (offer) => {
      s.offers.push(offer);
      chain = chain
        .then(async () => {
          await room.acceptAnswer(name, await page.call<string>(`sfuTest.answerSession(${JSON.stringify(offer.sdp)})`));
          s.answered++;
        })
        .catch((err: unknown) => void s.errors.push(err));
    },
    // They come while the answer is being applied (the page has the offer by then): added at once.
    candidates: (candidates) => {
      page.call(`sfuTest.addCandidates(${JSON.stringify(candidates)})`).catch((err: unknown) => void s.errors.push(err));
    },
    closed: () => void s.errors.push(new Error(`${name}'s session closed`)),
  };
  return s;
}
