import { describe, expect, it } from 'vitest';
import { readNacks, RtpHistory } from '../src/nack.js';
import { rtp } from '@pinhole/test-kit/rtp';

/** One Generic NACK (RFC 4585 §6.2.1) about `ssrc` with FCI entries [pid, blp]. */
function nack(ssrc: number, entries: [number, number][]): Buffer {
  const b = Buffer.alloc(12 + 4 * entries.length);
  b[0] = 0x80 | 1;
  b[1] = 205;
  b.writeUInt16BE(b.length / 4 - 1, 2);
  b.writeUInt32BE(0x1234, 4);
  b.writeUInt32BE(ssrc, 8);
  entries.forEach(([pid, blp], i) => {
    b.writeUInt16BE(pid, 12 + 4 * i);
    b.writeUInt16BE(blp, 14 + 4 * i);
  });
  return b;
}

/** A receiver report with one report block (24 bytes): what Chromium puts around its NACKs. */
const rr = (): Buffer => {
  const b = Buffer.alloc(32);
  b[0] = 0x81;
  b[1] = 201;
  b.writeUInt16BE(7, 2);
  b.writeUInt32BE(0x1234, 4);
  b.writeUInt32BE(0xffff_ffff, 8); // a report block whose bytes look like anything
  b.fill(0xff, 12);
  return b;
};

describe('readNacks (RFC 4585 §6.2.1)', () => {
  it.each([
    { name: 'one lost packet', buf: nack(5, [[100, 0]]), want: [100] },
    { name: 'BLP bits: the 1st and 16th after PID', buf: nack(5, [[100, 0x8001]]), want: [100, 101, 116] },
    { name: 'two FCI entries', buf: nack(5, [[10, 0], [500, 0b10]]), want: [10, 500, 502] },
    { name: 'wraps past 65535', buf: nack(5, [[65535, 0b1]]), want: [65535, 0] },
    { name: 'in a compound packet, RR first', buf: Buffer.concat([rr(), nack(5, [[7, 0]])]), want: [7] },
    { name: 'in a compound packet, RR after (werift read that RR as lost packets)', buf: Buffer.concat([nack(5, [[7, 0]]), rr()]), want: [7] },
    { name: 'about another SSRC', buf: nack(6, [[7, 0]]), want: [] },
    { name: 'a PLI is no NACK', buf: Buffer.from([0x81, 206, 0, 2, 0, 0, 0x12, 0x34, 0, 0, 0, 5]), want: [] },
    { name: 'truncated', buf: nack(5, [[7, 0]]).subarray(0, 14), want: [] },
    { name: 'empty', buf: Buffer.alloc(0), want: [] },
  ])('$name', ({ buf, want }) => expect(readNacks(buf, 5)).toEqual(want));
});

describe('RtpHistory', () => {
  const packet = (seq: number): Buffer => rtp({ ssrc: 1, seq, ts: seq * 3000 });

  it('holds the last `size` packets by sequence number, across the 16-bit wrap', () => {
    const h = new RtpHistory(4);
    for (const seq of [65533, 65534, 65535, 0, 1]) h.store(packet(seq));
    expect(h.get(65533)).toBeUndefined(); // 5 sent, 4 held
    expect([65534, 65535, 0, 1].map((seq) => h.get(seq)?.readUInt16BE(2))).toEqual([65534, 65535, 0, 1]);
    expect(h.get(2)).toBeUndefined(); // never sent
  });

  it('a slot holds one packet: an older number in it is not the one asked for', () => {
    const h = new RtpHistory(4);
    h.store(packet(8));
    expect(h.get(4)).toBeUndefined();
    expect(h.get(12)).toBeUndefined();
  });

  it('keeps copies: the core lends each packet only for its send and then rewrites the same buffer for the next subscriber', () => {
    const h = new RtpHistory(4);
    const lent = rtp({ ssrc: 1, seq: 7, ts: 21_000, payload: Buffer.from([1, 2, 3]) });
    const sent = Buffer.from(lent);
    h.store(lent);
    lent.writeUInt16BE(99, 2); // the next subscriber's rewrite of the same buffer
    lent.writeUInt32BE(2, 8);
    lent[12] = 0xff;
    expect(h.get(7)).toEqual(sent);
    expect(h.get(99)).toBeUndefined();
  });

  it('a larger packet in a slot gets room of its own; a smaller one later shows its own length', () => {
    const h = new RtpHistory(2);
    h.store(rtp({ ssrc: 1, seq: 2, ts: 0, payload: Buffer.alloc(2000, 7) }));
    expect(h.get(2)).toHaveLength(2012);
    h.store(rtp({ ssrc: 1, seq: 4, ts: 0, payload: Buffer.alloc(10, 1) }));
    expect(h.get(4)).toHaveLength(22);
  });

  it.each([0, 3, 100, 0x20000])('refuses size %i (not a power of two up to 65536)', (size) => expect(() => new RtpHistory(size)).toThrow(RangeError));
});
