import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BroadcastDelivery, ErrorFrame, JoinedFrame, PeerJoinedFrame, PeerLeftFrame, SignalDelivery } from '@pinhole/protocol';
import type { RunningHub } from '../src/index.js';
import type { TestClient } from './support/client.js';
import { TRANSPORTS, joined, testCores } from './support/hub.js';

const cores = testCores();

describe.each(cores)('$name core', (core) => {
  let hub: RunningHub;
  let clients: TestClient[] = [];
  beforeEach(async () => {
    hub = await core.start({ pollHoldMs: 2000 });
  });
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    clients = [];
    await hub.close();
  });

  async function join(room: string, transport: 'ws' | 'sse' | 'poll', name: string): Promise<TestClient> {
    const c = await joined(hub, room, { transport }, { name });
    clients.push(c);
    return c;
  }

  // One conformance suite, run by every transport: same frames, same semantics.
  describe.each(TRANSPORTS)('transport %s', (transport) => {
    it('two clients see presence, exchange signals and broadcasts', async () => {
      const a = await join('room-1', transport, 'Ada');
      const b = await join('room-1', transport, 'Bob');
      const bJoined = await b.next<JoinedFrame>((f) => f.type === 'joined');
      expect(bJoined.peers).toEqual([{ peer: a.peer, meta: { name: 'Ada' } }]);
      const seen = await a.next<PeerJoinedFrame>((f) => f.type === 'peer-joined');
      expect(seen).toMatchObject({ room: 'room-1', peer: b.peer, meta: { name: 'Bob' } });

      b.send({ type: 'signal', to: a.peer, data: { sdp: 'offer-from-b' } });
      const sig = await a.next<SignalDelivery>((f) => f.type === 'signal');
      expect(sig.from).toBe(b.peer);
      expect(sig.data).toEqual({ sdp: 'offer-from-b' });

      a.send({ type: 'signal', to: b.peer, room: 'room-1', data: { sdp: 'answer-from-a' } });
      expect(await b.next<SignalDelivery>((f) => f.type === 'signal')).toMatchObject({ from: a.peer, room: 'room-1', data: { sdp: 'answer-from-a' } });

      a.send({ type: 'broadcast', room: 'room-1', data: 'hello all' });
      expect(await b.next<BroadcastDelivery>((f) => f.type === 'broadcast')).toMatchObject({ from: a.peer, room: 'room-1', data: 'hello all' });
      // The sender does not get its own broadcast back.
      await b.next((f) => f.type === 'signal'); // settle
      expect(a.received.filter((f) => f.type === 'broadcast')).toHaveLength(0);

      b.send({ type: 'leave', room: 'room-1' });
      await b.next((f) => f.type === 'left');
      expect(await a.next<PeerLeftFrame>((f) => f.type === 'peer-left')).toMatchObject({ peer: b.peer, reason: 'leave' });
      expect(a.gaps).toEqual([]);
      expect(b.gaps).toEqual([]);
    });

    it('`from` is set by the hub, whatever the client claims', async () => {
      const a = await join('room-2', transport, 'Ada');
      const b = await join('room-2', transport, 'Bob');
      b.send({ type: 'signal', to: a.peer, data: 1, from: 'someone-else' } as never);
      expect((await a.next<SignalDelivery>((f) => f.type === 'signal')).from).toBe(b.peer);
    });

    it('bye ends the session at once: peers see peer-left, resume is refused', async () => {
      const a = await join('room-3', transport, 'Ada');
      const b = await join('room-3', transport, 'Bob');
      b.send({ type: 'bye' });
      expect(await a.next<PeerLeftFrame>((f) => f.type === 'peer-left')).toMatchObject({ peer: b.peer, reason: 'leave' });
      await expect(b.resume()).rejects.toMatchObject({ code: 'session-unknown' });
    });

    it('joining a room again answers joined again, keeps presence and announces nothing', async () => {
      const a = await join('room-5', transport, 'Ada');
      const b = await join('room-5', transport, 'Bob');
      await a.next((f) => f.type === 'peer-joined');
      b.send({ type: 'join', room: 'room-5', meta: { name: 'Impostor' } });
      await b.next((f) => f.type === 'joined' && f.peers.length === 1 && f.peers[0]!.peer === a.peer, 5000, 1);
      b.send({ type: 'broadcast', room: 'room-5', data: 'marker' });
      await a.next((f) => f.type === 'broadcast');
      expect(a.received.filter((f) => f.type === 'peer-joined')).toHaveLength(1);
      const peers = (await (await fetch(`${hub.url}/v1/rooms/room-5/peers`)).json()) as { peers: { peer: string; meta: unknown }[] };
      expect(peers.peers.find((p) => p.peer === b.peer)!.meta).toEqual({ name: 'Bob' });
    });

    it('ping gets a pong carrying lastId', async () => {
      const a = await join('room-4', transport, 'Ada');
      a.send({ type: 'ping' });
      const pong = await a.next((f) => f.type === 'pong');
      expect(pong).toMatchObject({ type: 'pong', lastId: 2 });
    });
  });

  it('unknown-peer errors name the peer exactly as sent, quotes and slashes included', async () => {
    const a = await join('texts', 'ws', 'A');
    const to = 'gh"o/st\\';
    a.send({ type: 'signal', to, data: 1 });
    a.send({ type: 'signal', to, room: 'texts', data: 2 });
    await a.until(() => a.received.filter((f) => f.type === 'error').length === 2);
    expect(a.received.filter((f): f is ErrorFrame => f.type === 'error').map((f) => [f.code, f.message])).toEqual([
      ['unknown-peer', 'peer "gh"o/st\\" shares no room with you'],
      ['unknown-peer', 'peer "gh"o/st\\" is not in room "texts"'],
    ]);
  });

  it('one room mixes ws, sse and poll clients', async () => {
    const ws = await join('mixed', 'ws', 'W');
    const sse = await join('mixed', 'sse', 'S');
    const poll = await join('mixed', 'poll', 'P');
    const all = [ws, sse, poll];
    for (const from of all) {
      for (const to of all) if (to !== from) from.send({ type: 'signal', to: to.peer, data: `${from.transport}->${to.transport}` });
      from.send({ type: 'broadcast', room: 'mixed', data: `all from ${from.transport}` });
    }
    for (const to of all) {
      for (const from of all) {
        if (from === to) continue;
        await to.next((f) => f.type === 'signal' && f.data === `${from.transport}->${to.transport}` && f.from === from.peer);
        await to.next((f) => f.type === 'broadcast' && f.data === `all from ${from.transport}` && f.from === from.peer);
      }
      expect(to.gaps).toEqual([]);
    }
    // Presence: the poll client, last to join, was told about both others.
    const pj = await poll.next<JoinedFrame>((f) => f.type === 'joined');
    expect(pj.peers.map((p) => p.peer).sort()).toEqual([ws.peer, sse.peer].sort());
  });

  it('a bare ack frame (no piggy-backed ack field) empties the replay buffer', async () => {
    const { default: WebSocket } = await import('ws');
    type Raw = { type: string; seq?: number; session?: string; key?: string; resumed?: boolean; room?: string };
    /** A raw WebSocket session (this suite's client would piggy-back its acks). */
    const open = async (hello: Record<string, unknown>) => {
      const ws = new WebSocket(`${hub.url.replace('http', 'ws')}/v1/ws`);
      const frames: Raw[] = [];
      ws.on('message', (d) => frames.push(...([] as Raw[]).concat(JSON.parse(d.toString()) as Raw | Raw[])));
      await new Promise((r) => ws.on('open', r));
      ws.send(JSON.stringify(hello));
      return { ws, frames };
    };
    const a = await join('acks', 'ws', 'A');
    const { ws, frames } = await open({ type: 'hello' });
    ws.send(JSON.stringify({ type: 'join', room: 'acks' }));
    await a.next((f) => f.type === 'peer-joined');
    const welcome = frames[0]!;
    const peer = (welcome as unknown as { peer: string }).peer;
    for (let n = 0; n < 20; n++) a.send({ type: 'signal', to: peer, data: n });
    await a.until(() => frames.length === 22); // welcome, joined, 20 signals
    const depth = async () => Number(/pinhole_replay_buffer_max_frames (\d+)/.exec(await (await fetch(`${hub.url}/metrics`)).text())![1]);
    if (core.capabilities.localStats) expect(await depth()).toBeGreaterThanOrEqual(21);
    const last = frames.at(-1)!.seq!;
    ws.send(JSON.stringify({ type: 'ack', seq: last }));
    // The pong of a ping sent after the ack: the ack was applied (a connection's frames apply in order).
    ws.send(JSON.stringify({ type: 'ping' }));
    await a.until(() => frames.some((f) => f.type === 'pong'));
    if (core.capabilities.localStats) {
      a.send({ type: 'ping' });
      await a.next((f) => f.type === 'pong');
      // Only `a` may still hold unacked frames now (it acks every 16); the bare-ack client holds none.
      expect(await depth()).toBeLessThan(16);
    }
    // Either core: a resume claiming nothing received (lastSeq 0) gets no replay, as none is
    // held; the next frame is the answer to a new join, numbered after the acked ones.
    ws.close();
    const again = await open({ type: 'hello', resume: { session: welcome.session, key: welcome.key, lastSeq: 0 } });
    again.ws.send(JSON.stringify({ type: 'join', room: 'acks-2' }));
    await a.until(() => again.frames.some((f) => f.type === 'joined'));
    expect(again.frames.filter((f) => f.type !== 'pong').map((f) => [f.type, f.seq])).toEqual([
      ['welcome', last],
      ['joined', last + 1],
    ]);
    expect(again.frames[0]).toMatchObject({ resumed: true });
    again.ws.close();
  });
});
