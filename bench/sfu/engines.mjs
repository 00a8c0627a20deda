// The send paths under test: one video track per subscriber peer connection, each engine
// offering (SFU side), the node-datachannel receivers answering. Every engine gets the same
// per-subscriber work from the harness (copy the packet, rewrite SSRC / sequence / timestamp,
// as the SFU does), then its own send call: SRTP encrypt + UDP send.
import { createRequire } from 'node:module';
import { randomInt } from 'node:crypto';

const sfuRequire = createRequire(new URL('../../packages/sfu/package.json', import.meta.url));
const load = (name) => import(sfuRequire.resolve(name));

const waitFor = (check, what, ms = 30_000) =>
  new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() - started > ms) return reject(new Error(`timed out: ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });

/** node-datachannel: a send-only Video with an SSRC the SFU chooses; raw RTP through track.sendMessageBinary. */
export async function ndcEngine() {
  const { default: ndc } = await load('node-datachannel');
  return {
    name: 'node-datachannel',
    async subscriber(id, answerFor) {
      const pc = new ndc.PeerConnection(`tx${id}`, { iceServers: [] });
      const ssrc = randomInt(1, 2 ** 32 - 1);
      const video = new ndc.Video('0', 'SendOnly');
      video.addVP8Codec(96);
      video.addSSRC(ssrc, 'bench', 'stream', 'video');
      const track = pc.addTrack(video);
      let open = false;
      track.onOpen(() => (open = true));
      pc.setLocalDescription();
      await waitFor(() => pc.gatheringState() === 'complete', 'ndc gathering');
      const answer = await answerFor(id, pc.localDescription().sdp);
      pc.setRemoteDescription(answer, 'answer');
      await waitFor(() => open, 'ndc track open');
      return {
        ssrc,
        send: (packet) => track.sendMessageBinary(packet),
        close: () => pc.close(),
      };
    },
    async shutdown() {
      ndc.cleanup();
    },
  };
}

/** werift: a send-only transceiver; MediaStreamTrack.writeRtp (parses, sets SSRC/PT/extensions, encrypts, sends). */
export async function weriftEngine() {
  const w = await load('werift');
  return {
    name: 'werift',
    async subscriber(id, answerFor) {
      const pc = new w.RTCPeerConnection({
        codecs: { video: [w.useVP8({ payloadType: 96 })], audio: [] },
        iceUseIpv6: false,
      });
      const track = new w.MediaStreamTrack({ kind: 'video' });
      const transceiver = pc.addTransceiver(track, { direction: 'sendonly' });
      await pc.setLocalDescription(await pc.createOffer());
      await waitFor(() => pc.iceGatheringState === 'complete', 'werift gathering');
      const answer = await answerFor(id, pc.localDescription.sdp);
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      await waitFor(() => pc.connectionState === 'connected', 'werift connected');
      return {
        ssrc: transceiver.sender.ssrc,
        send: (packet) => track.writeRtp(packet),
        close: () => pc.close(),
      };
    },
    async shutdown() {},
  };
}
