/**
 * The SFU as a service member of a real hub (docs/protocol/sfu.md): it joins a room when the
 * room opens, a node-datachannel publisher publishes through `pinhole:sfu-publish` signals, a
 * second member learns of it (`pinhole:sfu-tracks`), subscribes and receives RTP; bad requests
 * get typed `pinhole:sfu-error` replies; a member that leaves releases its transports, and the
 * service leaves the room once it is empty.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HubSignaler, nodePlatform, type Json } from '@pinhole/node';
import type { PeerInfo } from '@pinhole/protocol';
import { Sfu, SfuService } from '../src/index.js';
import { startTestHub } from '@pinhole/test-kit/hub';
import { publishingPeer, sessionPeer, ssrcOfSection, type SessionPeer } from '@pinhole/test-kit/media-peer';
import { rtp, vp8Key } from '@pinhole/test-kit/rtp';
import { TestRedis } from '@pinhole/test-kit/redis';
import { until } from '@pinhole/test-kit/wait';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

type Received = { from: string; data: Record<string, Json> };

interface Member {
  signaler: HubSignaler;
  /** Signals and broadcasts received, in order. */
  got: Received[];
  /** The SFU's peer id, once it is in the room. */
  sfu(): string | undefined;
  ask(data: Json): void;
  next(type: string, pred?: (d: Record<string, Json>) => boolean): Promise<Record<string, Json>>;
}

async function member(url: string, room: string): Promise<Member> {
  const signaler = new HubSignaler(url, { platform: nodePlatform(), openTimeoutMs: 3000, reconnect: false });
  cleanup.push(() => signaler.close());
  await signaler.open();
  const got: Received[] = [];
  const services = new Set<string>();
  const take = (from: string, data: Json): void => void got.push({ from, data: data as Record<string, Json> });
  signaler.on('signal', ({ from, data }) => take(from, data));
  signaler.on('broadcast', ({ from, data }) => take(from, data));
  const seen = (p: PeerInfo): void => void (p.service === 'sfu' && services.add(p.peer));
  signaler.on('peer-joined', ({ peer }) => seen(peer));
  signaler.on('peer-left', ({ peer }) => services.delete(peer));
  (await signaler.join(room)).forEach(seen);
  const m: Member = {
    signaler,
    got,
    sfu: () => [...services][0],
    ask: (data) => signaler.signal(m.sfu()!, data, room),
    async next(type, pred = () => true) {
      let found: Received | undefined;
      await until(() => (found = got.find((r) => r.data.type === type && pred(r.data))) !== undefined, 15_000, type);
      got.splice(got.indexOf(found!), 1);
      return found!.data;
    },
  };
  return m;
}

/** The hub's two cores: the service relies on presence marks and room events both must have. */
const cores = [
  { core: 'memory', options: async () => ({}) },
  {
    core: 'redis',
    options: async () => {
      const redis = await TestRedis.start();
      cleanup.push(() => redis.stop());
      return { redis: redis.url, redisPrefix: `sfu${process.pid}:` };
    },
  },
];

/**
 * Subscribes `m` to `publisher` and answers the SFU's session offers with one node-datachannel
 * peer (every later offer too: renegotiations). A session whose transport fails before its
 * answer is applied (a known, rare engine failure: docs/architecture.md, "Media server") is
 * reported as `pinhole:sfu-error` `closed` without a publisher: the documented answer is to
 * subscribe again, as a client would.
 */
async function subscribe(m: Member, publisher: string): Promise<{ receiver: SessionPeer; offers: Record<string, Json>[] }> {
  for (let attempt = 1; ; attempt++) {
    const receiver = sessionPeer();
    const offers: Record<string, Json>[] = [];
    cleanup.push(() => receiver.close());
    let stopped = false;
    cleanup.push(() => void (stopped = true));
    void (async () => {
      while (!stopped) {
        const offer = await m.next('pinhole:sfu-offer').catch(() => undefined);
        if (!offer || stopped) continue;
        offers.push(offer);
        m.ask({ type: 'pinhole:sfu-answer', sdp: await receiver.answer(offer.sdp as string) });
      }
    })();
    m.ask({ type: 'pinhole:sfu-subscribe', publisher });
    // The SFU's first offer holds its candidates back; they come once the answer is applied.
    void m.next('pinhole:sfu-candidates').then((c) => receiver.addCandidates(c.candidates as never), () => undefined);
    await until(() => receiver.received.size > 0 || m.got.some((r) => r.data.type === 'pinhole:sfu-error'), 15_000, 'RTP or an error');
    const error = m.got.find((r) => r.data.type === 'pinhole:sfu-error');
    if (!error) return { receiver, offers };
    stopped = true;
    expect(error.data).toMatchObject({ code: 'closed' });
    expect(error.data.publisher).toBeUndefined();
    expect(attempt).toBeLessThan(3);
    m.got.splice(m.got.indexOf(error), 1);
    receiver.close();
  }
}

describe('SfuService on a real hub', () => {
  it.each(cores)('$core core: joins an opened room, publishes and forwards through hub signals, answers bad requests with typed errors, and cleans up', async ({ options }) => {
    const hub = await startTestHub(await options());
    cleanup.push(() => hub.close());
    const sfu = new Sfu();
    cleanup.push(() => sfu.close());
    const service = new SfuService({ hub: hub.url, token: () => hub.serviceToken('sfu'), sfu });
    cleanup.push(() => service.close());
    await service.start();

    const alice = await member(hub.url, 'call');
    await until(() => alice.sfu() !== undefined, 10_000, 'the SFU to join the room');
    expect(alice.sfu()).toBe(service.peer);

    // Publish: the offer goes to the SFU as a signal, the answer comes back as one.
    const publisher = await publishingPeer();
    cleanup.push(() => publisher.close());
    alice.ask({ type: 'pinhole:sfu-publish', sdp: publisher.offer });
    const answer = await alice.next('pinhole:sfu-answer');
    await publisher.accept(answer.sdp as string);
    let seq = 0;
    const pump = setInterval(() => publisher.send(rtp({ ssrc: publisher.ssrc, seq: seq++, ts: seq * 3000, payload: vp8Key() })), 10);
    cleanup.push(() => clearInterval(pump));

    // A member joining later is told what is published, subscribes, and receives RTP.
    const bob = await member(hub.url, 'call');
    const tracks = await bob.next('pinhole:sfu-tracks');
    expect(tracks).toEqual({ type: 'pinhole:sfu-tracks', publisher: alice.signaler.localId, tracks: [{ mid: expect.any(String), kind: 'video', rids: [] }] });
    const { receiver, offers } = await subscribe(bob, alice.signaler.localId);
    expect(offers[0]).toEqual({ type: 'pinhole:sfu-offer', sdp: expect.stringMatching(/^v=0/), tracks: [{ mid: expect.any(String), publisher: alice.signaler.localId, kind: 'video', trackMid: (tracks.tracks as { mid: string }[])[0]!.mid }] });
    await until(() => [...receiver.received.values()].some((n) => n >= 20), 15_000, `RTP at bob (bob got ${JSON.stringify(bob.got)}, SFU ${JSON.stringify(sfu.counts())})`);
    expect(sfu.counts()).toEqual({ rooms: 1, publishers: 1, subscribers: 1 });

    // Bad requests: a typed error to the sender only, naming the request.
    bob.ask({ type: 'pinhole:sfu-subscribe', publisher: 'nobody' });
    expect(await bob.next('pinhole:sfu-error')).toMatchObject({ code: 'not-found', request: 'pinhole:sfu-subscribe', publisher: 'nobody' });
    bob.ask({ type: 'pinhole:sfu-publish', sdp: 'v=0\r\nnot sdp\r\n' });
    expect(await bob.next('pinhole:sfu-error')).toMatchObject({ code: 'bad-sdp', request: 'pinhole:sfu-publish' });
    bob.ask({ type: 'pinhole:sfu-layer', publisher: alice.signaler.localId, rid: 7 });
    expect(await bob.next('pinhole:sfu-error')).toMatchObject({ code: 'bad-request', request: 'pinhole:sfu-layer' });
    bob.ask({ type: 'pinhole:sfu-answer', sdp: 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:zz\r\n' }); // no offer waits for it
    expect(await bob.next('pinhole:sfu-error')).toMatchObject({ code: 'bad-request', request: 'pinhole:sfu-answer' });
    bob.ask({ type: 'pinhole:sfu-dance' });
    expect(await bob.next('pinhole:sfu-error')).toMatchObject({ code: 'bad-request', request: 'pinhole:sfu-dance' });
    bob.ask('not an object');
    expect(await bob.next('pinhole:sfu-error')).toMatchObject({ code: 'bad-request' });
    expect(alice.got.filter((r) => r.data.type === 'pinhole:sfu-error')).toEqual([]);
    expect(sfu.counts()).toEqual({ rooms: 1, publishers: 1, subscribers: 1 }); // still forwarding

    // The publisher leaves the hub room: its publication and bob's forward of it end, bob is
    // told it publishes nothing any more, and his session re-offers without its section (the
    // session stays while he is in the room).
    clearInterval(pump);
    await alice.signaler.leave('call');
    await until(() => sfu.counts().publishers === 0, 10_000, 'the publication to end');
    expect(await bob.next('pinhole:sfu-tracks')).toEqual({ type: 'pinhole:sfu-tracks', publisher: alice.signaler.localId, tracks: [] });
    await until(() => sfu.room('call').counts().subscriptions === 0 && offers.length === 2, 10_000, "bob's subscription to end, and a new offer");
    expect(offers[1]).toMatchObject({ tracks: [] });
    expect(sfu.counts()).toEqual({ rooms: 1, publishers: 0, subscribers: 1 });

    // The last participant leaves: the room closes and the SFU leaves it.
    await bob.signaler.leave('call');
    await until(() => service.rooms.length === 0, 10_000, 'the SFU to leave the closed room');
    expect(sfu.counts()).toEqual({ rooms: 0, publishers: 0, subscribers: 0 });
  }, 60_000);

  it('one subscriber session through hub signals carries two publishers; a re-offer follows a subscribe, an unsubscribe and a publisher leaving', async () => {
    const hub = await startTestHub();
    cleanup.push(() => hub.close());
    const sfu = new Sfu();
    cleanup.push(() => sfu.close());
    const service = new SfuService({ hub: hub.url, token: () => hub.serviceToken('sfu'), sfu });
    cleanup.push(() => service.close());
    await service.start();
    const publishers: Member[] = [];
    for (const [i, ssrc] of [0x1111_0000, 0x2222_0000].entries()) {
      const m = await member(hub.url, 'two');
      await until(() => m.sfu() !== undefined, 10_000, 'the SFU to join the room');
      const peer = await publishingPeer(ssrc);
      cleanup.push(() => peer.close());
      m.ask({ type: 'pinhole:sfu-publish', sdp: peer.offer });
      await peer.accept((await m.next('pinhole:sfu-answer')).sdp as string);
      let seq = 0;
      const pump = setInterval(() => peer.send(rtp({ ssrc, seq: seq++, ts: seq * 3000, payload: vp8Key() })), 10);
      cleanup.push(() => clearInterval(pump));
      publishers[i] = m;
    }
    const [alice, carol] = publishers as [Member, Member];
    const bob = await member(hub.url, 'two');
    await until(() => bob.sfu() !== undefined, 10_000, 'bob to see the SFU');
    const { receiver, offers } = await subscribe(bob, alice.signaler.localId);
    bob.ask({ type: 'pinhole:sfu-subscribe', publisher: carol.signaler.localId });
    await until(() => offers.length === 2, 10_000, 'the offer with carol');
    expect(offers[1]!.tracks).toEqual([
      { mid: expect.any(String), publisher: alice.signaler.localId, kind: 'video', trackMid: 'v0' },
      { mid: expect.any(String), publisher: carol.signaler.localId, kind: 'video', trackMid: 'v0' },
    ]);
    const ssrcOf = (offer: Record<string, Json>, publisher: string): number => {
      const section = (offer.tracks as { mid: string; publisher: string }[]).find((t) => t.publisher === publisher)!;
      return ssrcOfSection(offer.sdp as string, section.mid)!;
    };
    const carolSsrc = ssrcOf(offers[1]!, carol.signaler.localId);
    await until(() => (receiver.received.get(carolSsrc) ?? 0) >= 20, 15_000, "carol's RTP at bob");
    expect(sfu.counts()).toEqual({ rooms: 1, publishers: 2, subscribers: 1 });
    expect(bob.got.filter((r) => r.data.type === 'pinhole:sfu-candidates')).toEqual([]); // only after the first answer (taken by subscribe)

    bob.ask({ type: 'pinhole:sfu-unsubscribe', publisher: carol.signaler.localId });
    await until(() => offers.length === 3, 10_000, 'the offer without carol');
    expect((offers[2]!.tracks as { publisher: string }[]).map((t) => t.publisher)).toEqual([alice.signaler.localId]);
    await alice.signaler.leave('two');
    await until(() => offers.length === 4, 10_000, 'the offer without alice');
    expect(offers[3]!.tracks).toEqual([]);
    expect(bob.got.filter((r) => r.data.type === 'pinhole:sfu-error')).toEqual([]);
    expect(sfu.counts()).toEqual({ rooms: 1, publishers: 1, subscribers: 1 });
    await bob.signaler.leave('two');
    await until(() => sfu.counts().subscribers === 0, 10_000, "bob's session to end with his leaving");
  }, 60_000);

  it('a room open before the service starts is joined (watching), and unpublish ends a publication', async () => {
    const hub = await startTestHub();
    cleanup.push(() => hub.close());
    const alice = await member(hub.url, 'early');
    const sfu = new Sfu();
    cleanup.push(() => sfu.close());
    const service = new SfuService({ hub: hub.url, token: () => hub.serviceToken('sfu'), sfu });
    cleanup.push(() => service.close());
    await service.start();
    await until(() => alice.sfu() !== undefined, 10_000, 'the SFU to join the room');

    const publisher = await publishingPeer();
    cleanup.push(() => publisher.close());
    alice.ask({ type: 'pinhole:sfu-publish', sdp: publisher.offer });
    await publisher.accept((await alice.next('pinhole:sfu-answer')).sdp as string);
    alice.ask({ type: 'pinhole:sfu-unpublish' });
    await until(() => sfu.room('early').published().length === 0, 10_000, 'the publication to end');
    alice.ask({ type: 'pinhole:sfu-unpublish' });
    expect(await alice.next('pinhole:sfu-error')).toMatchObject({ code: 'not-found', request: 'pinhole:sfu-unpublish' });
  }, 60_000);

  it('when its hub session ends, the SFU comes back as a new member, drops the old forwards, and serves again', async () => {
    const hub = await startTestHub();
    cleanup.push(() => hub.close());
    const sfu = new Sfu();
    cleanup.push(() => sfu.close());
    const service = new SfuService({ hub: hub.url, token: () => hub.serviceToken('sfu'), sfu });
    cleanup.push(() => service.close());
    await service.start();
    const alice = await member(hub.url, 'call');
    await until(() => alice.sfu() !== undefined, 10_000, 'the SFU to join the room');
    const publisher = await publishingPeer();
    cleanup.push(() => publisher.close());
    alice.ask({ type: 'pinhole:sfu-publish', sdp: publisher.offer });
    await alice.next('pinhole:sfu-answer');
    expect(sfu.counts().publishers).toBe(1);

    // The hub ends the SFU's session (as after a grace period it could not resume within).
    const old = service.peer;
    const left = new Promise<void>((resolve) => alice.signaler.on('peer-left', ({ peer }) => peer === old && resolve()));
    const core = hub.hub as unknown as { sessions: Map<string, { peer: string }>; end(s: unknown, reason: string): Promise<void> };
    await core.end([...core.sessions.values()].find((s) => s.peer === old), 'closed');
    await left;
    await until(() => service.peer !== old && alice.sfu() === service.peer, 15_000, 'the SFU back under a new peer id');
    expect(sfu.counts()).toEqual({ rooms: 0, publishers: 0, subscribers: 0 });

    const again = await publishingPeer(0x2222_3333);
    cleanup.push(() => again.close());
    alice.ask({ type: 'pinhole:sfu-publish', sdp: again.offer });
    expect(await alice.next('pinhole:sfu-answer')).toMatchObject({ sdp: expect.stringMatching(/^v=0/) });
    expect(sfu.counts().publishers).toBe(1);
  }, 60_000);
});
