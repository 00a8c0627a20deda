/**
 * libdatachannel's early-answer race (docs/architecture.md, Media server, "Early answers"):
 * subscribers answer the instant their answer is complete, on a loaded machine (two busy child
 * processes) and with the SFU's event loop busy (as it is when it forwards media). Before the
 * SFU held its candidates back until the answer was applied, 4 and 6 of these 100 transports
 * closed inside acceptAnswer ("Got a remote candidate without ICE transport"); now none do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import nodeDataChannel from 'node-datachannel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataChannelEngine, SfuError } from '../src/index.js';

const { PeerConnection } = nodeDataChannel;

const SUBSCRIBERS = 100;
const BUSY_LOOPS = 2;
/** Each millisecond the event loop spins this long: always busy, yet timers and I/O still run. */
const EVENT_LOOP_SPIN_MS = 5;

let busy: ChildProcess[] = [];
beforeAll(() => {
  busy = Array.from({ length: BUSY_LOOPS }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
});
afterAll(() => {
  for (const child of busy) child.kill('SIGKILL');
});

/** One subscriber transport and a node-datachannel subscriber; the error it ended with, if any. */
async function oneSubscriber(engine: DataChannelEngine): Promise<string | undefined> {
  const transport = engine.createSubscriberTransport();
  transport.addTrack('video/VP8');
  const offer = await transport.createOffer();
  const peer = new PeerConnection('subscriber', { iceServers: [] });
  // The instant the answer is complete: from the gathering callback, not a poll.
  const answer = new Promise<string>((resolve) => peer.onGatheringStateChange((state) => state === 'complete' && resolve(peer.localDescription()!.sdp)));
  peer.setRemoteDescription(offer, 'offer');
  try {
    await transport.acceptAnswer(await answer, (candidates) => {
      for (const c of candidates) peer.addRemoteCandidate(c.candidate, c.sdpMid);
    });
    return undefined;
  } catch (err) {
    return err instanceof SfuError ? `${err.code}: ${err.message}` : String(err);
  } finally {
    transport.close();
    peer.close();
  }
}

describe('subscriber answers applied at once, under load', () => {
  it(`never close the node-datachannel transport (${SUBSCRIBERS} subscribers, ${BUSY_LOOPS} busy loops, a busy event loop)`, async () => {
    const engine = new DataChannelEngine();
    const spinner = setInterval(() => {
      const end = performance.now() + EVENT_LOOP_SPIN_MS;
      while (performance.now() < end);
    }, 1);
    const failures: string[] = [];
    try {
      for (let i = 0; i < SUBSCRIBERS; i++) {
        const failure = await oneSubscriber(engine);
        if (failure) failures.push(failure);
      }
    } finally {
      clearInterval(spinner);
      engine.close();
    }
    console.info(`${failures.length} of ${SUBSCRIBERS} subscriber transports failed`);
    expect(failures).toEqual([]);
  }, 60_000);
});
