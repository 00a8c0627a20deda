/**
 * The room's active speaker over the hub (docs/protocol/sfu.md §15.2, `pinhole:sfu-speaker`):
 * the SFU service broadcasts each change of the speaker it hears in its publishers' RFC 6464
 * audio levels, and tells a member that joins who speaks now. A real hub; node-datachannel
 * Opus publishers announcing the audio-level extension, published through hub signals.
 */
import { afterEach, expect, it } from 'vitest';
import { HubSignaler, nodePlatform, type Json } from '@pinhole/node';
import { Sfu, SfuService } from '../src/index.js';
import { startTestHub } from '@pinhole/test-kit/hub';
import { AUDIO_LEVEL_EXT_ID, publishingPeer } from '@pinhole/test-kit/media-peer';
import { rtp } from '@pinhole/test-kit/rtp';
import { until } from '@pinhole/test-kit/wait';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

interface Member {
  signaler: HubSignaler;
  sfu(): string | undefined;
  /** The publishers named by the `pinhole:sfu-speaker` received so far. */
  speakers(): (string | null)[];
  got: Record<string, Json>[];
}

async function member(url: string, room: string): Promise<Member> {
  const signaler = new HubSignaler(url, { platform: nodePlatform(), openTimeoutMs: 3000, reconnect: false });
  cleanup.push(() => signaler.close());
  await signaler.open();
  const got: Record<string, Json>[] = [];
  let sfu: string | undefined;
  signaler.on('signal', ({ data }) => void got.push(data as Record<string, Json>));
  signaler.on('broadcast', ({ data }) => void got.push(data as Record<string, Json>));
  signaler.on('peer-joined', ({ peer }) => void (peer.service === 'sfu' && (sfu = peer.peer)));
  for (const p of await signaler.join(room)) if (p.service === 'sfu') sfu = p.peer;
  return {
    signaler,
    got,
    sfu: () => sfu,
    speakers: () => got.filter((d) => d.type === 'pinhole:sfu-speaker').map((d) => d.publisher as string | null),
  };
}

/** `m` publishes Opus with audio levels through hub signals; returns the level setter (-dBov, 127 silence). */
async function talk(m: Member, room: string, ssrc: number): Promise<{ level: number }> {
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
  const hub = await startTestHub();
  cleanup.push(() => hub.close());
  const sfu = new Sfu();
  cleanup.push(() => sfu.close());
  const service = new SfuService({ hub: hub.url, token: () => hub.serviceToken('sfu'), sfu });
  cleanup.push(() => service.close());
  await service.start();

  const alice = await member(hub.url, 'talk');
  const bob = await member(hub.url, 'talk');
  const aliceVoice = await talk(alice, 'talk', 0x0a11ce);
  const bobVoice = await talk(bob, 'talk', 0x0b0b);
  const [a, b] = [alice.signaler.localId, bob.signaler.localId];

  aliceVoice.level = 25;
  await until(() => bob.speakers().at(-1) === a, 10_000, 'alice announced as the speaker');
  aliceVoice.level = 127;
  bobVoice.level = 20;
  await until(() => alice.speakers().at(-1) === b, 10_000, 'bob announced as the speaker');
  expect(alice.speakers()).toEqual([a, b]);
  expect(bob.speakers()).toEqual([a, b]);

  const carol = await member(hub.url, 'talk');
  await until(() => carol.speakers().length === 1, 10_000, 'the current speaker sent to carol');
  expect(carol.speakers()).toEqual([b]);

  // The speaker stops publishing: nobody speaks until someone does.
  bob.signaler.signal(bob.sfu()!, { type: 'pinhole:sfu-unpublish' }, 'talk');
  await until(() => alice.speakers().at(-1) === null, 10_000, 'the floor open again');
}, 60_000);
