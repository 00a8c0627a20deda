/**
 * Bundle-only media sections (JSEP, RFC 9429 §5.2.1): a publisher with max-bundle offers every
 * section after the first on port 0 with `a=bundle-only` — GStreamer's webrtcbin does (the offer
 * below is one it made). The SFU must take them as part of the BUNDLE group: werift alone took
 * port 0 as rejected, so the audio of a GStreamer WHIP stream never arrived, and a viewer or
 * subscriber waiting for the publisher's tracks timed out (seen in netns-gstreamer.test.ts).
 */
import { afterEach, expect, it } from 'vitest';
import { viewingPeer } from '@pinhole/test-kit/media-peer';
import { Sfu } from '../src/index.js';
import { acceptBundleOnly } from '../src/sdp.js';

const sdp = (...lines: string[]): string => [...lines, ''].join('\r\n');

const SESSION = ['v=0', 'o=- 2448142213268064662 0 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=ice-options:trickle', 'a=group:BUNDLE video0 audio1'];
const TRANSPORT = [
  'c=IN IP4 0.0.0.0',
  'a=setup:actpass',
  'a=ice-ufrag:P+9QTs3r6w7DJianPZIRm8Zbx++hq97x',
  'a=ice-pwd:gtzZ5pw91eLQnn9eTrerOWbj5gkT1zrJ',
];
const FINGERPRINT = 'a=fingerprint:sha-256 AB:E8:E1:35:4F:DE:8B:C6:EA:AE:43:73:BB:5E:F8:58:57:61:B7:67:85:31:E3:02:99:C7:A3:AA:2B:F1:9C:04';
/** webrtcbin's (GStreamer 1.22) offer of a VP8 test pattern and Opus, bundle-policy=max-bundle. */
const GSTREAMER_OFFER = sdp(
  ...SESSION,
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  ...TRANSPORT,
  'a=rtcp-mux',
  'a=sendrecv',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 nack pli',
  'a=ssrc:3592426224 cname:user3108664611@host-b0201c14',
  'a=mid:video0',
  FINGERPRINT,
  'm=audio 0 UDP/TLS/RTP/SAVPF 111',
  ...TRANSPORT,
  'a=bundle-only',
  'a=rtcp-mux',
  'a=sendrecv',
  'a=rtpmap:111 OPUS/48000/2',
  'a=ssrc:3906195798 cname:user3108664611@host-b0201c14',
  'a=mid:audio1',
  FINGERPRINT,
);

const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((fn) => fn()));

it('acceptBundleOnly moves bundle-only sections from port 0 to 9 and leaves the rest alone', () => {
  const out = acceptBundleOnly(GSTREAMER_OFFER);
  expect(out).toContain('\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n');
  expect(out.replace('m=audio 9 ', 'm=audio 0 ')).toBe(GSTREAMER_OFFER);
  // A section rejected for real (port 0, not bundle-only) stays rejected.
  const rejected = sdp('v=0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:0', 'm=audio 0 UDP/TLS/RTP/SAVPF 111', 'a=mid:1');
  expect(acceptBundleOnly(rejected)).toBe(rejected);
});

it("a publisher's bundle-only audio section is a track: a viewer gets audio and video at once, not a timeout", async () => {
  const sfu = new Sfu();
  cleanup.push(() => sfu.close());
  const room = sfu.room('stage');
  const answer = await room.publish('gst', GSTREAMER_OFFER);
  expect(answer).toMatch(/^m=audio 9 /m);
  const viewer = await viewingPeer();
  cleanup.push(() => viewer.close());
  const started = Date.now();
  const viewed = await room.view('screen', 'gst', viewer.offer);
  expect(Date.now() - started).toBeLessThan(5_000);
  // Both of the viewer's sections carry the publisher's tracks (neither answered inactive).
  expect(viewed.match(/^m=(audio|video) [1-9]/gm)?.length ?? 0).toBe(2);
  expect(viewed).not.toMatch(/^a=inactive/m);
}, 30_000);
