/**
 * How many watch a room (docs/protocol/sfu.md §15.2, `pinhole:sfu-viewers`): viewers (WHEP
 * players, through Room.view as the gateway calls it) are not members of the hub room, but its
 * members are told their number by the SFU service — broadcast when it changes, and sent to a
 * member that joins while anyone watches. A real hub, a node-datachannel publisher and viewer.
 */
import { afterEach, expect, it } from 'vitest';
import { hubWithSfu, sfuMember, type SfuMember } from './support/hub.js';
import { publishingPeer, viewingPeer } from '@pinhole/test-kit/media-peer';
import { rtp, vp8Key } from '@pinhole/test-kit/rtp';
import { until } from '@pinhole/test-kit/wait';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const member = (url: string, room: string): Promise<SfuMember> => sfuMember(url, room, (fn) => cleanup.push(fn));
/** What `pinhole:sfu-viewers` told `m` so far, in order. */
const viewers = (m: SfuMember): number[] => m.of('pinhole:sfu-viewers').map((d) => d.count as number);

it('members see pinhole:sfu-viewers 1 as a viewer comes and 0 as it goes; a member joining meanwhile is told 1; a refused viewer never counts', async () => {
  const { hub, sfu } = await hubWithSfu((fn) => cleanup.push(fn));

  const alice = await member(hub.url, 'show');
  await until(() => alice.sfu() !== undefined, 10_000, 'the SFU to join the room');
  const publisher = await publishingPeer();
  cleanup.push(() => publisher.close());
  alice.signaler.signal(alice.sfu()!, { type: 'pinhole:sfu-publish', sdp: publisher.offer }, 'show');
  await until(() => alice.got.some((d) => d.type === 'pinhole:sfu-answer'), 15_000, 'the SFU\u2019s answer');
  await publisher.accept(alice.got.find((d) => d.type === 'pinhole:sfu-answer')!.sdp as string);
  let seq = 0;
  const pump = setInterval(() => publisher.send(rtp({ ssrc: publisher.ssrc, seq: seq++, ts: seq * 3000, payload: vp8Key() })), 10);
  cleanup.push(() => clearInterval(pump));

  const room = sfu.room('show');
  // Refused while answering (its SDP is no offer): never counted, so no 1-then-0 flicker.
  await expect(room.view('bad-viewer', alice.signaler.localId, 'v=0\r\nnot an offer\r\n')).rejects.toThrow();

  const viewer = await viewingPeer();
  cleanup.push(() => viewer.close());
  viewer.accept(await room.view('viewer-1', alice.signaler.localId, viewer.offer));
  await until(() => viewers(alice).length === 1, 10_000, 'pinhole:sfu-viewers at alice');
  expect(viewers(alice)).toEqual([1]);

  const bob = await member(hub.url, 'show');
  await until(() => viewers(bob).length === 1, 10_000, 'pinhole:sfu-viewers sent to bob as he joined');
  expect(viewers(bob)).toEqual([1]);

  sfu.leave('show', 'viewer-1');
  await until(() => viewers(alice).length === 2 && viewers(bob).length === 2, 10_000, 'pinhole:sfu-viewers 0');
  expect(viewers(alice)).toEqual([1, 0]);
  expect(viewers(bob)).toEqual([1, 0]);

  // Nobody watches: a member joining now is told nothing about viewers.
  const carol = await member(hub.url, 'show');
  await until(() => carol.got.some((d) => d.type === 'pinhole:sfu-tracks'), 10_000, 'pinhole:sfu-tracks at carol');
  expect(viewers(carol)).toEqual([]);
}, 60_000);
