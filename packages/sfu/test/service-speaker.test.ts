/**
 * The room's active speaker over the hub (docs/protocol/sfu.md §15.2, `pinhole:sfu-speaker`):
 * the SFU service broadcasts each change of the speaker it hears in its publishers' RFC 6464
 * audio levels, and tells a member that joins who speaks now. A real hub; node-datachannel
 * Opus publishers announcing the audio-level extension, published through hub signals.
 */
import { afterEach, expect, it } from 'vitest';
import { hubWithSfu, sfuMember, type SfuMember } from './support/hub.js';
import { AUDIO_LEVEL_EXT_ID, publishingPeer } from '@pinhole/test-kit/media-peer';
import { rtp } from '@pinhole/test-kit/rtp';
import { until } from '@pinhole/test-kit/wait';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const member = (url: string, room: string): Promise<SfuMember> => sfuMember(url, room, (fn) => cleanup.push(fn));
/** What `pinhole:sfu-speaker` told `m` so far, in order. */
const speakers = (m: SfuMember): (string | null)[] => m.of('pinhole:sfu-speaker').map((d) => d.publisher as string | null);

/** `m` publishes Opus with audio levels through hub signals; returns the level setter (-dBov, 127 silence). */
async function talk(m: SfuMember, room: string, ssrc: number): Promise<{ level: number }> {
  await until(() => m.sfu() !== undefined, 10_000, 'the SFU in the room');
  const peer = await publishingPeer(ssrc, { audio: true });
  cleanup.push(() => peer.close());
  m.signaler.signal(m.sfu()!, { type: 'pinhole:sfu-publish', sdp: peer.offer }, room);
  await until(() => m.got.some((d) => d.type === 'pinhole:sfu-answer'), 15_000, 'the SFU\u2019s answer');
  await peer.accept(m.got.find((d) => d.type === 'pinhole:sfu-answer')!.sdp as string);
  const state = { level: 127 };
  let seq = 0;
  const timer = setInterval(() => peer.send(rtp({ ssrc, seq: seq++, ts: seq * 960, pt: 111, payload: Buffer.from([0xfc, 0xff, 0xfe]), audioLevel: { id: AUDIO_LEVEL_EXT_ID, level: state.level } })), 20);
  cleanup.push(() => clearInterval(timer));
  return state;
}

it('members hear who speaks as pinhole:sfu-speaker, each change once; a member joining is told the current speaker', async () => {
  const { hub } = await hubWithSfu((fn) => cleanup.push(fn));

  const alice = await member(hub.url, 'talk');
  const bob = await member(hub.url, 'talk');
  const aliceVoice = await talk(alice, 'talk', 0x0a11ce);
  const bobVoice = await talk(bob, 'talk', 0x0b0b);
  const [a, b] = [alice.signaler.localId, bob.signaler.localId];

  aliceVoice.level = 25;
  await until(() => speakers(bob).at(-1) === a, 10_000, 'alice announced as the speaker');
  aliceVoice.level = 127;
  bobVoice.level = 20;
  await until(() => speakers(alice).at(-1) === b, 10_000, 'bob announced as the speaker');
  expect(speakers(alice)).toEqual([a, b]);
  expect(speakers(bob)).toEqual([a, b]);

  const carol = await member(hub.url, 'talk');
  await until(() => speakers(carol).length === 1, 10_000, 'the current speaker sent to carol');
  expect(speakers(carol)).toEqual([b]);

  // The speaker stops publishing: nobody speaks until someone does.
  bob.signaler.signal(bob.sfu()!, { type: 'pinhole:sfu-unpublish' }, 'talk');
  await until(() => speakers(alice).at(-1) === null, 10_000, 'the floor open again');
}, 60_000);
