import { describe, expect, it } from 'vitest';
import { isH264KeyframeStart, isKeyframeStart, isVp8KeyframeStart, rtpPayload } from '../src/keyframe.js';
import { rtp, vp8Delta, vp8Key, vp8KeyContinuation, vp8KeyExtended } from '@pinhole/test-kit/rtp';

describe('VP8 keyframe start (RFC 7741)', () => {
  it.each([
    ['key frame, first packet', vp8Key(), true],
    ['key frame, extended descriptor with 15-bit picture ID', vp8KeyExtended(), true],
    ['delta frame (P bit set)', vp8Delta(), false],
    ['key frame continuation (S=0)', vp8KeyContinuation(), false],
    ['partition 1 start (PID=1): no payload header', Buffer.from([0x11, 0x00, 0x9d]), false],
    ['one byte', Buffer.from([0x10]), false],
    ['empty', Buffer.alloc(0), false],
  ])('%s → %s', (_name, payload, want) => expect(isVp8KeyframeStart(payload)).toBe(want));
});

describe('H.264 keyframe start (RFC 6184)', () => {
  const nal = (type: number, ...rest: number[]): number[] => [0x60 | type, ...rest];
  const stapA = (...units: number[][]): Buffer =>
    Buffer.from([0x78, ...units.flatMap((u) => [u.length >> 8, u.length & 0xff, ...u])]);
  it.each([
    ['single SPS', Buffer.from(nal(7, 0x42, 0xe0)), true],
    ['single IDR slice', Buffer.from(nal(5, 0x88)), true],
    ['single non-IDR slice', Buffer.from(nal(1, 0x9a)), false],
    ['STAP-A with SPS, PPS (as Chromium sends ahead of an IDR)', stapA(nal(7, 0x42, 0xe0, 0x1f), nal(8, 0xce)), true],
    ['STAP-A with SEI and a non-IDR slice', stapA(nal(6, 0x05), nal(1, 0x9a)), false],
    ['STAP-A whose first size runs past the end', Buffer.from([0x78, 0xff, 0xff, 0x67]), true],
    ['STAP-A truncated before any unit', Buffer.from([0x78, 0x00]), false],
    ['FU-A start of an IDR', Buffer.from([0x7c, 0x85, 0x88]), true],
    ['FU-A middle of an IDR (S=0)', Buffer.from([0x7c, 0x05, 0x88]), false],
    ['FU-A start of a non-IDR slice', Buffer.from([0x7c, 0x81, 0x9a]), false],
    ['empty', Buffer.alloc(0), false],
  ])('%s → %s', (_name, payload, want) => expect(isH264KeyframeStart(payload)).toBe(want));
});

describe('isKeyframeStart on whole RTP packets', () => {
  it('skips the header extension (Chromium puts mid/rid there) to find the payload', () => {
    const packet = rtp({ ssrc: 1, seq: 1, ts: 1, extension: true, payload: vp8Key() });
    expect(rtpPayload(packet)).toEqual(vp8Key());
    expect(isKeyframeStart('video/VP8', packet)).toBe(true);
    expect(isKeyframeStart('video/VP8', rtp({ ssrc: 1, seq: 1, ts: 1, extension: true, payload: vp8Delta() }))).toBe(false);
  });

  it('H.264 by mime type, any case', () => {
    expect(isKeyframeStart('video/h264', rtp({ ssrc: 1, seq: 1, ts: 1, payload: Buffer.from([0x65, 0x88]) }))).toBe(true);
  });

  it('audio and unknown codecs never start a keyframe; garbage is false, not an exception', () => {
    expect(isKeyframeStart('audio/opus', rtp({ ssrc: 1, seq: 1, ts: 1, payload: vp8Key() }))).toBe(false);
    expect(isKeyframeStart('video/VP8', Buffer.from([0x80, 0x60, 0x00]))).toBe(false);
    const lyingExtension = rtp({ ssrc: 1, seq: 1, ts: 1, extension: true, payload: vp8Key() });
    lyingExtension.writeUInt16BE(0xffff, 14); // extension length far past the end
    expect(isKeyframeStart('video/VP8', lyingExtension)).toBe(false);
  });
});
