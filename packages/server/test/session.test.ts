import { describe, expect, it } from 'vitest';
import { DEV_GRANT } from '../src/auth.js';
import { Session } from '../src/session.js';
import { TokenBucket } from '../src/ratelimit.js';
import type { Downstream, Encoded } from '../src/transports/transport.js';

const limits = { maxReplayFrames: 10, maxReplayBytes: 10_000, ratePerSecond: 10, rateBurst: 5 };
const signal = (n: number) => ({ type: 'signal' as const, from: 'p', data: n });

class Recorder implements Downstream {
  readonly name = 'ws' as const;
  frames: Encoded[] = [];
  closed: string | undefined;
  write(frames: readonly Encoded[]) {
    this.frames.push(...frames);
  }
  writeLoose() {}
  close(code?: string) {
    this.closed = code ?? 'closed';
  }
}

describe('Session replay buffer', () => {
  it('numbers frames, trims on cumulative ack, replays the rest on attach', () => {
    const s = new Session(DEV_GRANT, limits, 0);
    s.attach(new Recorder(), 0);
    for (let n = 1; n <= 5; n++) expect(s.push(signal(n))).toBe(true);
    expect(s.unacked).toBe(5);
    s.ack(3);
    expect(s.unacked).toBe(2);
    const d = new Recorder();
    s.attach(d, 3);
    expect(d.frames.map((f) => f.seq)).toEqual([4, 5]);
    expect(JSON.parse(d.frames[0]!.text)).toEqual({ type: 'signal', seq: 4, from: 'p', data: 4 });
    s.push(signal(6));
    expect(d.frames.map((f) => f.seq)).toEqual([4, 5, 6]);
  });

  it('a new attach closes the previous downstream as replaced', () => {
    const s = new Session(DEV_GRANT, limits, 0);
    const first = new Recorder();
    const second = new Recorder();
    s.attach(first, 0);
    s.attach(second, 0);
    expect(first.closed).toBe('replaced');
    s.detach(first, 5); // a stale detach is ignored
    expect(s.downstream).toBe(second);
    s.detach(second, 7);
    expect(s.detachedAt).toBe(7);
  });

  it('reports overflow past maxReplayFrames', () => {
    const s = new Session(DEV_GRANT, limits, 0);
    for (let n = 1; n <= 10; n++) expect(s.push(signal(n))).toBe(true);
    expect(s.push(signal(11))).toBe(false);
  });

  it('an ack beyond the frames sent so far is clamped to them: frames pushed while detached stay', () => {
    const s = new Session(DEV_GRANT, limits, 0);
    s.attach(new Recorder(), 0);
    s.push(signal(1));
    s.detach(s.downstream!, 1);
    s.push(signal(2));
    s.push(signal(3));
    s.ack(Number.MAX_SAFE_INTEGER);
    expect(s.unacked).toBe(2);
    const d = new Recorder();
    s.attach(d, 1);
    expect(d.frames.map((f) => f.seq)).toEqual([2, 3]);
    s.ack(Number.MAX_SAFE_INTEGER); // sent now
    expect(s.unacked).toBe(0);
  });

  it('stays bounded over a long run of pushes and acks', () => {
    const s = new Session(DEV_GRANT, limits, 0);
    s.attach(new Recorder(), 0);
    for (let n = 1; n <= 100_000; n++) {
      s.push(signal(n));
      if (n % 5 === 0) s.ack(n);
    }
    expect(s.unacked).toBe(0);
    expect(s.unackedBytes).toBe(0);
    expect(s.framesAfter(0)).toEqual([]);
  });
});

describe('Session.firstSight (client frame ids)', () => {
  it('integer ids: contiguous lastId, out-of-order gaps close, retries refused', () => {
    const s = new Session(DEV_GRANT, limits, 0);
    expect(s.firstSight(1)).toBe(true);
    expect(s.firstSight(3)).toBe(true);
    expect(s.lastId).toBe(1);
    expect(s.firstSight(2)).toBe(true);
    expect(s.lastId).toBe(3);
    expect(s.firstSight(2)).toBe(false);
    expect(s.firstSight(3)).toBe(false);
    expect(s.firstSight(4)).toBe(true);
  });

  it('string ids are deduplicated over a bounded window', () => {
    const s = new Session(DEV_GRANT, limits, 0);
    expect(s.firstSight('a')).toBe(true);
    expect(s.firstSight('a')).toBe(false);
    for (let i = 0; i < 2000; i++) s.firstSight(`x${i}`);
    expect(s.firstSight('a')).toBe(true); // forgotten after the window
  });
});

describe('TokenBucket', () => {
  it('allows the burst, then the rate, with an injected clock', () => {
    const b = new TokenBucket(10, 5, 0);
    let ok = 0;
    for (let i = 0; i < 20; i++) if (b.take(0)) ok++;
    expect(ok).toBe(5);
    expect(b.take(50)).toBe(false); // half a token
    expect(b.take(100)).toBe(true); // one token after 100 ms
    expect(new TokenBucket(Infinity, 1, 0).take(0)).toBe(true);
  });
});

describe('Session.push and encoding', () => {
  it('a frame that fails to encode takes no seq: the next one is numbered as if it had not been pushed', () => {
    const s = new Session(DEV_GRANT, limits, 0);
    const d = new Recorder();
    s.attach(d, 0);
    s.push(signal(1));
    // JSON.stringify refuses a BigInt; nothing from the wire can hold one, but any encode failure must behave the same.
    expect(() => s.push({ type: 'signal', from: 'p', data: 2n as unknown as number })).toThrow(TypeError);
    expect(s.seq).toBe(1);
    expect(s.unacked).toBe(1);
    s.push(signal(3));
    expect(d.frames.map((f) => f.seq)).toEqual([1, 2]);
    expect(JSON.parse(d.frames[1]!.text)).toMatchObject({ seq: 2, data: 3 });
  });
});
