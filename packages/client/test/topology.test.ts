/**
 * The mesh ↔ SFU decision (sfu/topology.ts) as a state machine, on simulated time: a room
 * moves to the SFU when it grows past meshMax, back only after RETURN_MS at that size
 * (hysteresis), at once when the SFU leaves; it subscribes to every publication of the others
 * and retries what the SFU refused as `closed`. No media here (a member without a camera):
 * the media path itself is tested in Chromium (packages/sfu/test/topology-chromium.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Json } from '@pinhole/protocol';
import { Topology, type SfuRefusal, type TopologyHost, type TopologyMode } from '../src/sfu/topology.js';
import { MESH_FALLBACK_MAX, MESH_RETURN_MS, SFU_RETRY_MS, SFU_UNHEALTHY_RETRY_MS } from '../src/defaults.js';
import { asSfuMessage } from '../src/sfu/signals.js';

class NoPeerConnection {
  constructor() {
    throw new Error('no connection expected in this test');
  }
}

const RETURN_MS = 5_000;

function setup(topology: 'auto' | 'sfu' = 'auto', meshMax?: number, meshReturnMs: number | null = RETURN_MS) {
  let participants = 1;
  let sfu: string | undefined = 'SFU';
  const sent: Json[] = [];
  const modes: TopologyMode[] = [];
  const ended: string[] = [];
  const speakers: (string | undefined)[] = [];
  const refusals: SfuRefusal[] = [];
  const host: TopologyHost = {
    localId: 'me',
    connections: () => [],
    connection: () => undefined,
    peerIds: () => [],
    participants: () => participants,
    sfu: () => sfu,
    send: (to, data) => {
      expect(to).toBe(sfu);
      sent.push(data);
    },
    deliver: () => undefined,
    ended: (publisher) => ended.push(publisher),
    speaker: (publisher) => speakers.push(publisher),
    changed: (mode) => modes.push(mode),
    refused: (error) => refusals.push(error),
  };
  const t = new Topology(host, {
    topology,
    RTCPeerConnection: NoPeerConnection as unknown as typeof RTCPeerConnection,
    configuration: () => ({}),
    ...(meshMax === undefined ? {} : { meshMax }),
    ...(meshReturnMs === null ? {} : { meshReturnMs }),
  });
  return {
    t,
    sent,
    modes,
    ended,
    speakers,
    refusals,
    size(n: number) {
      participants = n;
      t.update();
    },
    sfuLeaves() {
      sfu = undefined;
      t.update();
    },
    sfuComes(id = 'SFU') {
      sfu = id;
      t.update();
    },
    from(data: Json, sender = 'SFU') {
      t.message(sender, asSfuMessage(data)!);
    },
  };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('Topology', () => {
  it('auto: mesh up to meshMax (2), SFU past it, with meshReturnMs set, back to mesh only after that long at that size', () => {
    const r = setup();
    r.size(2);
    expect(r.t.mode).toBe('mesh');
    r.size(3);
    expect(r.t.mode).toBe('sfu');
    r.size(2);
    vi.advanceTimersByTime(RETURN_MS - 1);
    expect(r.t.mode).toBe('sfu');
    r.size(3); // grew again before the return: stays, and the return is off
    vi.advanceTimersByTime(RETURN_MS * 2);
    expect(r.t.mode).toBe('sfu');
    r.size(2);
    vi.advanceTimersByTime(RETURN_MS);
    expect(r.t.mode).toBe('mesh');
    expect(r.modes).toEqual(['sfu', 'mesh']);
  });

  it('by default (MESH_RETURN_MS) a room that shrank stays on the SFU while the SFU is there', () => {
    expect(MESH_RETURN_MS).toBe(Infinity);
    const r = setup('auto', undefined, null);
    r.size(3);
    r.size(2);
    vi.advanceTimersByTime(3_600_000);
    expect(r.t.mode).toBe('sfu');
    r.sfuLeaves();
    expect(r.t.mode).toBe('mesh');
  });

  it('meshMax is an option; `sfu` uses the SFU at any size; no SFU in the room means mesh', () => {
    const a = setup('auto', 4);
    a.size(4);
    expect(a.t.mode).toBe('mesh');
    a.size(5);
    expect(a.t.mode).toBe('sfu');
    const s = setup('sfu');
    s.size(1);
    expect(s.t.mode).toBe('sfu');
    s.sfuLeaves();
    expect(s.t.mode).toBe('mesh'); // at once: nothing to wait for
    s.sfuComes();
    expect(s.t.mode).toBe('sfu');
  });

  it('subscribes to each publication of the others once, not to its own; a refused one (`closed`) is tried again', () => {
    const r = setup();
    const tracks = [{ mid: '0', kind: 'video', rids: ['q', 'h', 'f'] }];
    r.from({ type: 'pinhole:sfu-tracks', publisher: 'me', tracks });
    r.from({ type: 'pinhole:sfu-tracks', publisher: 'ann', tracks });
    r.from({ type: 'pinhole:sfu-tracks', publisher: 'ann', tracks });
    expect(r.sent).toEqual([{ type: 'pinhole:sfu-subscribe', publisher: 'ann', layer: 'h' }]);
    r.from({ type: 'pinhole:sfu-error', code: 'closed', message: 'x', request: 'pinhole:sfu-subscribe', publisher: 'ann' });
    vi.advanceTimersByTime(SFU_RETRY_MS);
    expect(r.sent).toHaveLength(2);
    // A layer request goes out once per change.
    r.t.setLayer('ann', 'q');
    r.t.setLayer('ann', 'q');
    expect(r.sent.slice(2)).toEqual([{ type: 'pinhole:sfu-layer', publisher: 'ann', rid: 'q' }]);
    // The publication ends: no retry, no more requests for it.
    r.from({ type: 'pinhole:sfu-tracks', publisher: 'ann', tracks: [] });
    expect(r.ended).toEqual(['ann']);
    r.from({ type: 'pinhole:sfu-error', code: 'closed', message: 'x', request: 'pinhole:sfu-subscribe', publisher: 'ann' });
    vi.advanceTimersByTime(SFU_RETRY_MS * 2);
    expect(r.sent).toHaveLength(3);
  });

  it('a restarted SFU (a new id while the old member lingers) takes over: media back on the mesh, then on the new SFU; old messages ignored', () => {
    const r = setup('sfu');
    r.size(3);
    r.from({ type: 'pinhole:sfu-tracks', publisher: 'ann', tracks: [{ mid: '0', kind: 'audio', rids: [] }] });
    expect(r.sent).toHaveLength(1);
    r.sfuComes('SFU2');
    expect(r.modes).toEqual(['sfu', 'mesh', 'sfu']);
    r.from({ type: 'pinhole:sfu-tracks', publisher: 'bob', tracks: [{ mid: '0', kind: 'audio', rids: [] }] }, 'SFU');
    expect(r.sent).toHaveLength(1);
    r.from({ type: 'pinhole:sfu-tracks', publisher: 'ann', tracks: [{ mid: '0', kind: 'audio', rids: [] }] }, 'SFU2');
    expect(r.sent.slice(1)).toEqual([{ type: 'pinhole:sfu-subscribe', publisher: 'ann', layer: 'h' }]);
  });

  it('over-capacity is never retried at once: a room small enough falls back to the mesh (SFU again later), a bigger one tells the app', async () => {
    const full = { type: 'pinhole:sfu-error', code: 'over-capacity', message: 'room r has 2 publishers: the most this SFU allows (publishersPerRoom 2)' };
    const tracks = [{ mid: '0', kind: 'video', rids: [] }];
    // Small: back to the mesh at once; the SFU is tried again SFU_UNHEALTHY_RETRY_MS later.
    const small = setup('auto');
    small.size(MESH_FALLBACK_MAX);
    expect(small.t.mode).toBe('sfu');
    small.from({ type: 'pinhole:sfu-tracks', publisher: 'ann', tracks });
    small.from({ ...full, request: 'pinhole:sfu-subscribe', publisher: 'ann' });
    expect(small.t.mode).toBe('mesh');
    const subscribes = (): Json[] => small.sent.filter((d) => (d as { type: string }).type === 'pinhole:sfu-subscribe');
    expect(subscribes()).toHaveLength(1);
    vi.advanceTimersByTime(SFU_UNHEALTHY_RETRY_MS - 1);
    expect(subscribes()).toHaveLength(1);
    expect(small.t.mode).toBe('mesh');
    vi.advanceTimersByTime(1);
    expect(small.t.mode).toBe('sfu');
    expect(subscribes()).toHaveLength(2);
    expect(small.refusals).toEqual([]);

    // Too big for a mesh: stays on the SFU, the app hears of it, and nothing is asked again.
    const big = setup('auto');
    big.size(MESH_FALLBACK_MAX + 1);
    big.from({ type: 'pinhole:sfu-tracks', publisher: 'ann', tracks });
    const before = big.sent.length;
    big.from({ ...full, request: 'pinhole:sfu-subscribe', publisher: 'ann' });
    vi.advanceTimersByTime(SFU_UNHEALTHY_RETRY_MS * 3);
    expect(big.t.mode).toBe('sfu');
    expect(big.sent).toHaveLength(before);
    expect(big.refusals).toEqual([{ code: 'over-capacity', message: full.message, request: 'pinhole:sfu-subscribe', publisher: 'ann' }]);
    // Its publisher announcing its tracks again (it re-published): asked once more.
    big.from({ type: 'pinhole:sfu-tracks', publisher: 'ann', tracks });
    expect(big.sent.slice(before)).toEqual([{ type: 'pinhole:sfu-subscribe', publisher: 'ann', layer: 'h' }]);
  });

  it("passes the SFU's active speaker on (null: nobody)", () => {
    const r = setup();
    r.from({ type: 'pinhole:sfu-speaker', publisher: 'ann' });
    r.from({ type: 'pinhole:sfu-speaker', publisher: null });
    r.from({ type: 'pinhole:sfu-speaker', publisher: 'eve' }, 'mallory');
    expect(r.speakers).toEqual(['ann', undefined]);
    expect(asSfuMessage({ type: 'pinhole:sfu-speaker', publisher: 7 })).toBeUndefined();
  });

  it('ignores what does not come from the SFU, and malformed SFU messages', () => {
    const r = setup();
    r.t.message('mallory', { type: 'pinhole:sfu-tracks', publisher: 'ann', tracks: [{ mid: '0', kind: 'audio', rids: [] }] });
    expect(r.sent).toEqual([]);
    expect(asSfuMessage({ type: 'pinhole:sfu-offer', sdp: 'v=0', tracks: [{ mid: 1 }] })).toBeUndefined();
    expect(asSfuMessage({ type: 'pinhole:sfu-candidates', candidates: [{}] })).toBeUndefined();
    expect(asSfuMessage([1, 2])).toBeUndefined();
  });
});
