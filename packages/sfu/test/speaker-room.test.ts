/**
 * A room's active speaker from its publishers' RFC 6464 audio levels, on the default engine:
 * two node-datachannel Opus publishers announce the audio-level extension, the SFU's answer
 * accepts it, and the room follows whoever talks — and announces it — through SRTP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Sfu } from '../src/index.js';
import { AUDIO_LEVEL_EXT_ID, publishingPeer, type PublishingPeer } from '@pinhole/test-kit/media-peer';
import { rtp } from '@pinhole/test-kit/rtp';
import { until } from '@pinhole/test-kit/wait';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

interface Talker {
  peer: PublishingPeer;
  /** -dBov of the packets sent from now on (127: silence). */
  level: number;
}

async function talker(sfu: Sfu, name: string, ssrc: number): Promise<Talker> {
  const peer = await publishingPeer(ssrc, { audio: true });
  cleanups.push(() => peer.close());
  const answer = await sfu.room('r').publish(name, peer.offer);
  expect(answer).toMatch(new RegExp(`^a=extmap:${AUDIO_LEVEL_EXT_ID} urn:ietf:params:rtp-hdrext:ssrc-audio-level`, 'm'));
  await peer.accept(answer);
  const t: Talker = { peer, level: 127 };
  let seq = 0;
  // 20 ms Opus packets, as a browser sends them.
  const timer = setInterval(() => peer.send(rtp({ ssrc, seq: seq++, ts: seq * 960, pt: 111, payload: Buffer.from([0xfc, 0xff, 0xfe]), audioLevel: { id: AUDIO_LEVEL_EXT_ID, level: t.level } })), 20);
  cleanups.push(() => clearInterval(timer));
  return t;
}

describe('active speaker', () => {
  it('follows who talks, announces each change, and opens the floor when the speaker leaves', async () => {
    const sfu = new Sfu();
    cleanups.push(() => sfu.close());
    const alice = await talker(sfu, 'alice', 0x0a11ce);
    const bob = await talker(sfu, 'bob', 0x0b0b);
    const room = sfu.room('r');
    const announced: (string | undefined)[] = [];
    room.onActiveSpeaker((peer) => announced.push(peer));

    alice.level = 25;
    bob.level = 80; // room noise, below the speech level
    await until(() => room.activeSpeaker === 'alice', 10_000, 'alice to take the floor');
    alice.level = 127;
    bob.level = 20;
    await until(() => room.activeSpeaker === 'bob', 10_000, 'bob to take the floor');
    expect(announced).toEqual(['alice', 'bob']);

    sfu.leave('r', 'bob');
    expect(room.activeSpeaker).toBeUndefined();
    expect(announced).toEqual(['alice', 'bob', undefined]);
    alice.level = 30;
    await until(() => room.activeSpeaker === 'alice', 10_000, 'alice to take the floor again');
  });
});
