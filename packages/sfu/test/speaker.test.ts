/** RFC 6464 audio levels read from raw RTP, and the dominant-speaker rules, in simulated time. */
import { describe, expect, it } from 'vitest';
import { rtp } from '@pinhole/test-kit/rtp';
import { readAudioLevel } from '../src/audio-level.js';
import { ActiveSpeakerDetector } from '../src/speaker.js';

const header = (extension: number[]): Buffer => Buffer.concat([rtp({ ssrc: 1, seq: 1, ts: 1, pt: 111, payload: Buffer.alloc(0) }), Buffer.from(extension)]);
/** A packet with X=1 and the given extension block (profile, length in words, elements). */
const withExtension = (block: number[], payload = [0xfc]): Buffer => {
  const p = Buffer.concat([header(block), Buffer.from(payload)]);
  p[0]! |= 0x10;
  return p;
};

describe('readAudioLevel', () => {
  it('one-byte form (0xBEDE), among other elements and padding', () => {
    // mid (id 3, "0"), padding, audio level (id 1): V=1, 25 dBov, padding to the word.
    const p = withExtension([0xbe, 0xde, 0x00, 0x02, 0x30, 0x30, 0x00, 0x10, 0x80 | 25, 0, 0, 0]);
    expect(readAudioLevel(p, 1)).toEqual({ level: 25, voice: true });
    expect(readAudioLevel(p, 2)).toBeUndefined();
  });

  it('two-byte form (0x100X)', () => {
    const p = withExtension([0x10, 0x00, 0x00, 0x02, 0x05, 0x01, 0x00, 0x01, 0x01, 127, 0, 0]);
    expect(readAudioLevel(p, 1)).toEqual({ level: 127, voice: false });
  });

  it('nothing without an extension, and nothing from a block that runs past the packet or an element past its block', () => {
    expect(readAudioLevel(rtp({ ssrc: 1, seq: 1, ts: 1 }), 1)).toBeUndefined();
    const short = withExtension([0xbe, 0xde, 0x00, 0x09, 0x10, 25, 0, 0], []);
    expect(readAudioLevel(short, 1)).toBeUndefined();
    const long = withExtension([0xbe, 0xde, 0x00, 0x01, 0x3f, 25, 0, 0], []); // id 3 claims 16 bytes in a 4-byte block
    expect(readAudioLevel(long, 1)).toBeUndefined();
    expect(readAudioLevel(Buffer.alloc(5), 1)).toBeUndefined();
  });
});

/** Feeds 50 packets a second per speaker for `ms`, evaluating every 200 ms; returns the changes seen. */
function talk(d: ActiveSpeakerDetector, clock: { now: number }, ms: number, levels: Record<string, number>): string[] {
  const changes: string[] = [];
  for (const end = clock.now + ms; clock.now < end; clock.now += 20) {
    for (const [peer, level] of Object.entries(levels)) d.add(peer, { level, voice: level < 127 }, clock.now);
    if (clock.now % 200 === 0) {
      const changed = d.evaluate(clock.now);
      if (changed) changes.push(changed);
    }
  }
  return changes;
}

describe('ActiveSpeakerDetector', () => {
  it('the first to speak takes the floor; a clearly louder challenger takes it after the hold time; silence keeps it', () => {
    const d = new ActiveSpeakerDetector();
    const clock = { now: 0 };
    expect(talk(d, clock, 1000, { alice: 127, bob: 127 })).toEqual([]);
    expect(d.current).toBeUndefined();
    expect(talk(d, clock, 1000, { alice: 20, bob: 70 })).toEqual(['alice']); // bob's 70 dBov is room noise
    // Not before the hold time: the challenger must stay ahead for 500 ms.
    expect(talk(d, clock, 400, { alice: 127, bob: 15 })).toEqual([]);
    expect(talk(d, clock, 1600, { alice: 127, bob: 15 })).toEqual(['bob']);
    expect(d.current).toBe('bob');
    // Everyone silent: the last speaker stays.
    expect(talk(d, clock, 3000, { alice: 127, bob: 127 })).toEqual([]);
    expect(d.current).toBe('bob');
  });

  it('a cough (200 ms) or background noise does not take the floor', () => {
    const d = new ActiveSpeakerDetector();
    const clock = { now: 0 };
    talk(d, clock, 1000, { alice: 30, carol: 65 });
    expect(d.current).toBe('alice');
    expect(talk(d, clock, 200, { alice: 30, carol: 5 })).toEqual([]); // carol coughs
    expect(talk(d, clock, 3000, { alice: 30, carol: 65 })).toEqual([]);
    expect(d.current).toBe('alice');
  });

  it('the floor opens when the speaker leaves; ranking orders by activity', () => {
    const d = new ActiveSpeakerDetector();
    const clock = { now: 0 };
    talk(d, clock, 1000, { alice: 20, bob: 40, carol: 127 });
    expect(d.ranking(clock.now).map((r) => r.peer)).toEqual(['alice', 'bob', 'carol']);
    d.remove('alice');
    expect(d.current).toBeUndefined();
    expect(talk(d, clock, 400, { bob: 40, carol: 127 })).toEqual(['bob']);
  });
});
