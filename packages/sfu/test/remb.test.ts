import { ReceiverEstimatedMaxBitrate, RtcpPacketConverter, RtcpPayloadSpecificFeedback, RtcpRrPacket } from 'werift';
import { describe, expect, it } from 'vitest';
import { encodeRemb, readRemb } from '../src/remb.js';

describe('REMB (draft-alvestrand-rmcat-remb-03 §2.2)', () => {
  it('encodes the draft layout: PSFB FMT 15, media SSRC 0, "REMB", count, exponent and 18-bit mantissa, SSRCs', () => {
    const buf = encodeRemb(0x11223344, { bitrate: 1_000_000, ssrcs: [0xaabbccdd, 5] });
    expect(buf.length).toBe(28);
    expect(buf[0]).toBe(0x8f); // V=2, FMT=15
    expect(buf[1]).toBe(206);
    expect(buf.readUInt16BE(2)).toBe(6); // 32-bit words minus one
    expect(buf.readUInt32BE(4)).toBe(0x11223344);
    expect(buf.readUInt32BE(8)).toBe(0);
    expect(buf.subarray(12, 16).toString('latin1')).toBe('REMB');
    expect(buf[16]).toBe(2);
    // 1 000 000 = 250 000 · 2^2: above the 18-bit mantissa (262 143) only once halved twice.
    expect(buf[17]! >> 2).toBe(2);
    expect(((buf[17]! & 3) << 16) | buf.readUInt16BE(18)).toBe(250_000);
    expect(buf.readUInt32BE(20)).toBe(0xaabbccdd);
    expect(buf.readUInt32BE(24)).toBe(5);
  });

  it.each([
    ['small', 30_000],
    ['needing an exponent', 2_500_000],
    ['large', 123_456_789],
  ])('round-trips a %s bitrate to within the mantissa precision', (_name, bitrate) => {
    const read = readRemb(encodeRemb(1, { bitrate, ssrcs: [7] }));
    expect(read?.ssrcs).toEqual([7]);
    expect(read!.bitrate).toBeLessThanOrEqual(bitrate);
    expect(read!.bitrate).toBeGreaterThan(bitrate * (1 - 2 ** -17));
  });

  it('agrees with werift, which parses REMB (its RTCP parser reads what encodeRemb writes)', () => {
    const [packet] = RtcpPacketConverter.deSerialize(encodeRemb(9, { bitrate: 2_000_000, ssrcs: [1234] }));
    expect(packet).toBeInstanceOf(RtcpPayloadSpecificFeedback);
    const feedback = (packet as RtcpPayloadSpecificFeedback).feedback as ReceiverEstimatedMaxBitrate;
    expect(feedback).toBeInstanceOf(ReceiverEstimatedMaxBitrate);
    expect(Number(feedback.bitrate)).toBe(2_000_000);
    expect(feedback.ssrcFeedbacks).toEqual([1234]);
  });

  it('finds the REMB after a receiver report in a compound packet (what Chromium sends)', () => {
    const rr = new RtcpRrPacket({ ssrc: 1, reports: [] }).serialize();
    const compound = Buffer.concat([rr, encodeRemb(1, { bitrate: 640_000, ssrcs: [42] })]);
    expect(readRemb(compound)).toEqual({ bitrate: 640_000, ssrcs: [42] });
  });

  it.each([
    ['a receiver report alone', new RtcpRrPacket({ ssrc: 1, reports: [] }).serialize()],
    ['a truncated REMB', encodeRemb(1, { bitrate: 1000, ssrcs: [1, 2] }).subarray(0, 24)],
    ['garbage', Buffer.from([0xff, 0xff, 0xff, 0xff])],
    ['nothing', Buffer.alloc(0)],
  ])('reads no REMB from %s', (_name, buf) => {
    expect(readRemb(buf)).toBeUndefined();
  });
});
