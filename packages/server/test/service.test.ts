/**
 * Service members (docs/protocol/hub.md §3.3, §6.2), on both cores: a token with `svc` marks its
 * holder as a service in presence (`joined.peers[]`, `peer-joined`, REST), a participant cannot
 * pose as one (meta, a forged or dev-mode token), and a service that sent `watch-rooms` is told
 * which rooms have participants (`watching`, `room-opened`, `room-closed`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JoinedFrame, PeerJoinedFrame, ServerFrame, WatchingFrame } from '@pinhole/protocol';
import { mintToken, type RunningHub } from '../src/index.js';
import { TestClient } from './support/client.js';
import { testCores } from './support/hub.js';

const SECRET = 'service-secret-0123456789';
const cores = testCores();

describe.each(cores)('$name core', (core) => {
  let hub: RunningHub;
  const clients: TestClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await hub.close();
  });

  async function connect(token?: string): Promise<TestClient> {
    const c = new TestClient(hub.url, token === undefined ? {} : { token });
    clients.push(c);
    await c.connect();
    return c;
  }

  async function join(c: TestClient, room: string, meta: Record<string, string> = {}): Promise<JoinedFrame> {
    const id = c.send({ type: 'join', room, meta });
    return c.next<JoinedFrame>((f) => f.type === 'joined' && f.ref === id);
  }

  const sfuToken = (): Promise<string> => mintToken(SECRET, { identity: 'sfu', service: 'sfu' }, 60);
  const userToken = (identity: string): Promise<string> => mintToken(SECRET, { identity }, 60);
  const opened = (c: TestClient): ServerFrame[] => c.received.filter((f) => f.type === 'room-opened' || f.type === 'room-closed');

  it('presence marks the service member in joined, peer-joined and REST; meta cannot fake it', async () => {
    hub = await core.start({ secret: SECRET });
    const alice = await connect(await userToken('alice'));
    await join(alice, 'r', { service: 'sfu', name: 'Alice' });
    const sfu = await connect(await sfuToken());
    const seen = await join(sfu, 'r', { name: 'SFU' });
    expect(seen.peers).toEqual([{ peer: alice.peer, meta: { service: 'sfu', name: 'Alice' } }]);
    const announced = await alice.next<PeerJoinedFrame>((f) => f.type === 'peer-joined');
    expect(announced).toMatchObject({ peer: sfu.peer, meta: { name: 'SFU' }, service: 'sfu' });
    const bob = await connect(await userToken('bob'));
    const bobSees = await join(bob, 'r');
    expect(bobSees.peers).toEqual(
      expect.arrayContaining([
        { peer: alice.peer, meta: { service: 'sfu', name: 'Alice' } },
        { peer: sfu.peer, meta: { name: 'SFU' }, service: 'sfu' },
      ]),
    );
    expect(bobSees.peers.find((p) => p.peer === alice.peer)).not.toHaveProperty('service');
    const rest = (await (await fetch(`${hub.url}/v1/rooms/r/peers`, { headers: { authorization: `Bearer ${SECRET}` } })).json()) as { peers: unknown[] };
    expect(rest.peers).toContainEqual({ peer: sfu.peer, meta: { name: 'SFU' }, service: 'sfu' });
  });

  it('a forged service token is refused, and a participant may not watch rooms', async () => {
    hub = await core.start({ secret: SECRET });
    const forged = new TestClient(hub.url, { token: await mintToken('not-the-secret', { identity: 'sfu', service: 'sfu' }, 60) });
    clients.push(forged);
    await expect(forged.connect()).rejects.toMatchObject({ code: 'unauthorized' });
    const alice = await connect(await userToken('alice'));
    const id = alice.send({ type: 'watch-rooms' });
    expect(await alice.next((f) => f.type === 'error' && f.ref === id)).toMatchObject({ code: 'forbidden', frame: 'watch-rooms' });
  });

  it('a service session cannot be resumed with a participant token of the same identity', async () => {
    hub = await core.start({ secret: SECRET });
    const sfu = await connect(await sfuToken());
    sfu.drop();
    (sfu.options as { token?: string }).token = await userToken('sfu');
    await expect(sfu.resume()).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('dev mode: tokens give no service mark, except one minted by the hub itself', async () => {
    hub = await core.start({});
    const poser = await connect(await mintToken('guess', { identity: 'sfu', service: 'sfu' }, 60));
    expect(poser.welcome!.identity).toBe('anonymous');
    const alice = await connect();
    await join(alice, 'r');
    await join(poser, 'r');
    expect(await alice.next<PeerJoinedFrame>((f) => f.type === 'peer-joined')).not.toHaveProperty('service');
    const sfu = await connect(await hub.serviceToken('sfu'));
    expect(sfu.welcome!.identity).toBe('sfu');
    await join(sfu, 'r');
    expect(await alice.next<PeerJoinedFrame>((f) => f.type === 'peer-joined' && f.peer === sfu.peer)).toMatchObject({ service: 'sfu' });
  });

  it('watch-rooms: the open rooms now, then room-opened / room-closed as participants come and go', async () => {
    hub = await core.start({ secret: SECRET });
    const alice = await connect(await userToken('alice'));
    await join(alice, 'early');
    const sfu = await connect(await sfuToken());
    const id = sfu.send({ type: 'watch-rooms' });
    expect(await sfu.next<WatchingFrame>((f) => f.type === 'watching')).toEqual(expect.objectContaining({ rooms: ['early'], ref: id }));

    // The service's own membership opens nothing and closes nothing.
    await join(sfu, 'early');
    await join(sfu, 'quiet');
    const bob = await connect(await userToken('bob'));
    await join(bob, 'late');
    await sfu.next((f) => f.type === 'room-opened' && f.room === 'late');
    await join(alice, 'late'); // a second participant: no event
    bob.send({ type: 'leave', room: 'late' });
    await alice.next((f) => f.type === 'peer-left' && f.peer === bob.peer);
    alice.send({ type: 'bye' }); // leaves 'early' and 'late' at once
    await sfu.next((f) => f.type === 'room-closed' && f.room === 'early');
    await sfu.next((f) => f.type === 'room-closed' && f.room === 'late');
    await new Promise((r) => setTimeout(r, 100));
    expect(opened(sfu)).toEqual([
      expect.objectContaining({ type: 'room-opened', room: 'late' }),
      expect.objectContaining({ type: 'room-closed', room: expect.any(String) }),
      expect.objectContaining({ type: 'room-closed', room: expect.any(String) }),
    ]);

    // Asking again answers with the rooms open now: none.
    const again = sfu.send({ type: 'watch-rooms' });
    expect(await sfu.next<WatchingFrame>((f) => f.type === 'watching' && f.ref === again)).toMatchObject({ rooms: [] });
    // A service that ends is no longer told.
    sfu.send({ type: 'bye' });
    const carol = await connect(await userToken('carol'));
    await join(carol, 'after');
    const other = await connect(await sfuToken());
    other.send({ type: 'watch-rooms' });
    expect(await other.next<WatchingFrame>((f) => f.type === 'watching')).toMatchObject({ rooms: ['after'] });
  });
});
