import { describe, expect, it } from 'vitest';
import { RtpHeaderBackup, RtpRewriter, seqNewer } from '../src/rewriter.js';
import { rtp } from '@pinhole/test-kit/rtp';

const OUT = { ssrc: 0xabcdef01, payloadType: 100, clockRate: 90000 };

function read(p: Buffer): { seq: number; ts: number; ssrc: number; pt: number; marker: boolean } {
  return { seq: p.readUInt16BE(2), ts: p.readUInt32BE(4), ssrc: p.readUInt32BE(8), pt: p[1]! & 0x7f, marker: (p[1]! & 0x80) !== 0 };
}

describe('seqNewer (RFC 1982 serial arithmetic on 16 bits)', () => {
  it.each([
    [1, 0, true],
    [0, 1, false],
    [0, 65535, true],
    [65535, 0, false],
    [5, 5, false],
    [0x8000 - 1, 0, true],
    [0x8000, 0, false],
  ])('seqNewer(%i, %i) = %s', (a, b, want) => expect(seqNewer(a, b)).toBe(want));
});

describe('RtpRewriter', () => {
  type Step = { ssrc: number; seq: number; ts: number; at: number; want: { seq: number; ts: number } };
  const cases: { name: string; steps: Step[] }[] = [
    {
      name: 'one source passes through with its own numbers',
      steps: [
        { ssrc: 1, seq: 100, ts: 1000, at: 0, want: { seq: 100, ts: 1000 } },
        { ssrc: 1, seq: 101, ts: 4000, at: 33, want: { seq: 101, ts: 4000 } },
      ],
    },
    {
      name: 'sequence number wraps 65535 → 0 on one source',
      steps: [
        { ssrc: 1, seq: 65534, ts: 10, at: 0, want: { seq: 65534, ts: 10 } },
        { ssrc: 1, seq: 65535, ts: 10, at: 0, want: { seq: 65535, ts: 10 } },
        { ssrc: 1, seq: 0, ts: 3010, at: 33, want: { seq: 0, ts: 3010 } },
      ],
    },
    {
      name: 'a switch continues by one sequence number and the elapsed time (100 ms = 9000 ticks at 90 kHz)',
      steps: [
        { ssrc: 1, seq: 500, ts: 90_000, at: 0, want: { seq: 500, ts: 90_000 } },
        { ssrc: 2, seq: 7, ts: 123, at: 100, want: { seq: 501, ts: 99_000 } },
        { ssrc: 2, seq: 8, ts: 3123, at: 133, want: { seq: 502, ts: 102_000 } },
      ],
    },
    {
      name: 'a switch across both wraparounds: output sequence 65535 → 0, timestamp 2^32-1 → past 0',
      steps: [
        { ssrc: 1, seq: 65535, ts: 0xffff_ffff, at: 0, want: { seq: 65535, ts: 0xffff_ffff } },
        { ssrc: 2, seq: 40_000, ts: 5, at: 10, want: { seq: 0, ts: 899 } },
        { ssrc: 2, seq: 40_001, ts: 3005, at: 43, want: { seq: 1, ts: 3899 } },
      ],
    },
    {
      name: 'the new source itself wraps after the switch',
      steps: [
        { ssrc: 1, seq: 10, ts: 1000, at: 0, want: { seq: 10, ts: 1000 } },
        { ssrc: 2, seq: 65535, ts: 0xffff_fff0, at: 1, want: { seq: 11, ts: 1090 } },
        { ssrc: 2, seq: 0, ts: 0x0000_0010, at: 2, want: { seq: 12, ts: 1122 } },
      ],
    },
    {
      name: 'a late packet keeps its place and does not move the head; the next switch follows the newest',
      steps: [
        { ssrc: 1, seq: 20, ts: 3000, at: 0, want: { seq: 20, ts: 3000 } },
        { ssrc: 1, seq: 22, ts: 6000, at: 20, want: { seq: 22, ts: 6000 } },
        { ssrc: 1, seq: 21, ts: 3000, at: 25, want: { seq: 21, ts: 3000 } },
        { ssrc: 3, seq: 900, ts: 50, at: 30, want: { seq: 23, ts: 6900 } },
      ],
    },
    {
      name: 'switching back to a source seen before re-anchors it (no jump back to its old numbers)',
      steps: [
        { ssrc: 1, seq: 100, ts: 0, at: 0, want: { seq: 100, ts: 0 } },
        { ssrc: 2, seq: 5000, ts: 777, at: 10, want: { seq: 101, ts: 900 } },
        { ssrc: 1, seq: 160, ts: 18_000, at: 20, want: { seq: 102, ts: 1800 } },
      ],
    },
  ];

  it.each(cases)('$name', ({ steps }) => {
    let now = 0;
    const rewriter = new RtpRewriter(OUT, () => now);
    for (const step of steps) {
      now = step.at;
      const out = rewriter.rewrite(rtp({ ssrc: step.ssrc, seq: step.seq, ts: step.ts, pt: 96, marker: true }))!;
      expect(read(out)).toEqual({ ...step.want, ssrc: OUT.ssrc, pt: OUT.payloadType, marker: true });
    }
  });

  it('rewrites in place, no copy; RtpHeaderBackup puts the source header back for the next subscriber', () => {
    const source = rtp({ ssrc: 1, seq: 1, ts: 1, pt: 100, marker: true, extension: true, payload: Buffer.from([1, 2, 3]) });
    const before = Buffer.from(source);
    const backup = new RtpHeaderBackup();
    backup.save(source);
    const out = new RtpRewriter(OUT, () => 0).rewrite(source)!;
    expect(out).toBe(source);
    expect(read(out)).toMatchObject({ ssrc: OUT.ssrc, pt: OUT.payloadType, marker: true });
    expect(out.subarray(12)).toEqual(before.subarray(12));
    backup.restore(source);
    expect(source).toEqual(before);
  });

  it('drops what is not RTP (short, wrong version) instead of throwing', () => {
    const r = new RtpRewriter(OUT, () => 0);
    expect(r.rewrite(Buffer.alloc(5))).toBeUndefined();
    const v1 = rtp({ ssrc: 1, seq: 1, ts: 1 });
    v1[0] = 0x40;
    expect(r.rewrite(v1)).toBeUndefined();
  });

  it('restart (a resumed forward): the same source continues by one sequence number and the time paused', () => {
    let now = 0;
    const r = new RtpRewriter(OUT, () => now);
    r.rewrite(rtp({ ssrc: 1, seq: 100, ts: 48_000 }));
    r.restart();
    now = 2000; // 2 s paused: the source went on to seq 200 meanwhile
    expect(read(r.rewrite(rtp({ ssrc: 1, seq: 200, ts: 48_000 + 2 * 90_000 }))!)).toMatchObject({ seq: 101, ts: 48_000 + 2 * 90_000 });
    now = 2020;
    expect(read(r.rewrite(rtp({ ssrc: 1, seq: 201, ts: 48_000 + 2 * 90_000 + 1800 }))!)).toMatchObject({ seq: 102, ts: 48_000 + 2 * 90_000 + 1800 });
  });

  it('restart before the first packet changes nothing', () => {
    const r = new RtpRewriter(OUT, () => 0);
    r.restart();
    expect(read(r.rewrite(rtp({ ssrc: 1, seq: 7, ts: 70 }))!)).toMatchObject({ seq: 7, ts: 70 });
  });

  it('counts source switches', () => {
    const r = new RtpRewriter(OUT, () => 0);
    for (const ssrc of [1, 1, 2, 2, 1]) r.rewrite(rtp({ ssrc, seq: 1, ts: 1 }));
    expect(r.switches).toBe(3);
  });
});
