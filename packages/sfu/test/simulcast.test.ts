import { describe, expect, it } from 'vitest';
import { RtpRewriter } from '../src/rewriter.js';
import { KEYFRAME_RETRY_MS, LayerForwarder } from '../src/simulcast.js';
import { rtp, vp8Delta, vp8Key } from '@pinhole/test-kit/rtp';

const SSRC: Record<string, number> = { q: 11, h: 22, f: 33 };

function setup(initial: string | null = 'q') {
  let now = 0;
  const asked: (string | undefined)[] = [];
  const seq: Record<string, number> = { q: 100, h: 5000, f: 60000 };
  const rewriter = new RtpRewriter({ ssrc: 999, payloadType: 96, clockRate: 90000 }, () => now);
  const forwarder = new LayerForwarder('video/VP8', rewriter, (rid) => asked.push(rid), initial, () => now);
  /** Sends one packet of `rid`; returns the sequence number the subscriber sees, or null if dropped. */
  const send = (rid: string, key: boolean): number | null => {
    now += 10;
    seq[rid] = (seq[rid]! + 1) & 0xffff;
    const out = forwarder.forward(rid, rtp({ ssrc: SSRC[rid]!, seq: seq[rid]!, ts: now * 90, payload: key ? vp8Key() : vp8Delta() }));
    return out ? out.readUInt16BE(2) : null;
  };
  return { forwarder, asked, send, advance: (ms: number) => (now += ms) };
}

describe('LayerForwarder', () => {
  it('asks for a keyframe of the first layer and forwards nothing before it', () => {
    const { asked, send } = setup('q');
    expect(asked).toEqual(['q']);
    expect(send('q', false)).toBeNull();
    expect(send('h', true)).toBeNull();
    expect(send('q', true)).toBe(102); // the first source keeps its own numbers
    expect(send('q', false)).toBe(103);
  });

  it('switches only on a keyframe of the target layer, keeping the current layer until then, with continuous sequence numbers', () => {
    const { forwarder, asked, send } = setup('q');
    send('q', true);
    send('q', false);
    forwarder.setTarget('f');
    expect(asked).toEqual(['q', 'f']);
    expect(send('f', false)).toBeNull(); // delta frame of f: cannot start there
    expect(send('q', false)).toBe(103); // q goes on meanwhile
    expect(send('h', true)).toBeNull(); // a keyframe of another layer is not the target
    expect(send('f', true)).toBe(104); // the switch: next sequence number
    expect(send('q', true)).toBeNull(); // the old layer is dropped from now on
    expect(send('f', false)).toBe(105);
    expect(forwarder.current).toBe('f');
    expect(forwarder.layerSwitches).toBe(1);
  });

  it(`asks again for a missing keyframe at most every ${KEYFRAME_RETRY_MS} ms`, () => {
    const { forwarder, asked, send, advance } = setup('q');
    send('q', true);
    forwarder.setTarget('h');
    for (let i = 0; i < 20; i++) send('h', false); // 200 ms of delta frames
    expect(asked).toEqual(['q', 'h']);
    advance(KEYFRAME_RETRY_MS);
    send('h', false);
    expect(asked).toEqual(['q', 'h', 'h']);
  });

  it('null pauses (nothing forwarded, nothing asked); resuming waits for a keyframe again', () => {
    const { forwarder, asked, send } = setup('q');
    send('q', true);
    forwarder.setTarget(null);
    expect(send('q', true)).toBeNull();
    expect(asked).toEqual(['q']);
    forwarder.setTarget('q');
    expect(asked).toEqual(['q', 'q']);
    expect(send('q', false)).toBeNull();
    expect(send('q', true)).not.toBeNull();
  });

  it('a resumed layer continues the sequence numbers where the pause stopped them', () => {
    const { forwarder, send } = setup('q');
    expect(send('q', true)).toBe(101);
    expect(send('q', false)).toBe(102);
    forwarder.setTarget(null);
    for (let i = 0; i < 50; i++) send('q', false);
    forwarder.setTarget('q');
    expect(send('q', true)).toBe(103);
    expect(send('q', false)).toBe(104);
  });

  it('starts paused when created with null', () => {
    const { asked, send } = setup(null);
    expect(asked).toEqual([]);
    expect(send('q', true)).toBeNull();
  });

  it("passes the subscriber's keyframe request on for the layer it is getting", () => {
    const { forwarder, asked, send } = setup('h');
    send('h', true);
    forwarder.keyframeLost();
    expect(asked).toEqual(['h', 'h']);
  });

  it('audio (and single-layer streams) need no keyframe', () => {
    const rewriter = new RtpRewriter({ ssrc: 5, payloadType: 111, clockRate: 48000 }, () => 0);
    const asked: unknown[] = [];
    const f = new LayerForwarder('audio/opus', rewriter, (rid) => asked.push(rid), undefined, () => 0);
    const out = f.forward(undefined, rtp({ ssrc: 7, seq: 9, ts: 960, pt: 109, payload: Buffer.from([0xfc]) }));
    expect(out?.readUInt32BE(8)).toBe(5);
    expect(out![1]! & 0x7f).toBe(111);
    expect(asked).toEqual([]);
  });
});
