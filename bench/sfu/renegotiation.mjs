// Subscriber-session renegotiation cost (packages/sfu/dist, default engine): one member's
// session on one node-datachannel client connection, publishers P1..P3 subscribed and
// unsubscribed in turn (ROUNDS times each way). Reports the first offer's time to connected
// media-ready (ICE + DTLS), each renegotiation's time from the request to its answer applied
// (the SFU's offer, the client's answer, libdatachannel applying it), and the m-line count at
// the end (sections are recycled, so it stays at the most tracks held at once).
// Run: npm run build -w @pinhole/sfu && node bench/sfu/renegotiation.mjs   (env ROUNDS, default 30)
import nodeDataChannel from 'node-datachannel';
import { Sfu } from '../../packages/sfu/dist/index.js';

const { PeerConnection, Video } = nodeDataChannel;
const ROUNDS = Number(process.env.ROUNDS ?? 30);
const until = async (check, ms = 15_000) => {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

const sfu = new Sfu();
const room = sfu.room('bench');
const publishers = [];
for (let i = 0; i < 4; i++) {
  const pc = new PeerConnection(`p${i}`, { iceServers: [], disableAutoNegotiation: true });
  const video = new Video('v0', 'SendOnly');
  video.addVP8Codec(96);
  video.addSSRC(0x1000 + i, 'bench', 'stream', 'video');
  const track = pc.addTrack(video);
  pc.setLocalDescription('offer');
  await until(() => pc.gatheringState() === 'complete');
  pc.setRemoteDescription(await room.publish(`p${i}`, pc.localDescription().sdp), 'answer');
  publishers.push({ pc, track });
}

const client = new PeerConnection('client', { iceServers: [], disableAutoNegotiation: true });
const tracks = []; // held: node-datachannel stops calling back once a Track object is collected
client.onTrack((t) => tracks.push(t));
let lastOffer = '';
let answered;
const signals = {
  offer: async ({ sdp }) => {
    lastOffer = sdp;
    client.setRemoteDescription(sdp, 'offer');
    client.setLocalDescription('answer');
    await until(() => client.gatheringState() === 'complete');
    await room.acceptAnswer('client', client.localDescription().sdp);
    answered();
  },
  candidates: (candidates) => candidates.forEach((c) => client.addRemoteCandidate(c.candidate, c.sdpMid)),
  closed: () => console.error('the session closed'),
};
const timed = (request) =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    answered = () => resolve(performance.now() - started);
    request().catch(reject);
  });

const first = await timed(() => room.subscribe('client', 'p0', signals));
const times = [];
for (let k = 0; k < ROUNDS; k++) {
  const publisher = `p${1 + (k % 3)}`;
  times.push(await timed(() => room.subscribe('client', publisher, signals)));
  times.push(await timed(async () => room.unsubscribe('client', publisher)));
}
times.sort((a, b) => a - b);
const at = (q) => times[Math.min(times.length - 1, Math.floor(times.length * q))].toFixed(1);
console.log(
  JSON.stringify({
    firstOfferMs: Math.round(first),
    renegotiations: times.length,
    p50Ms: at(0.5),
    p95Ms: at(0.95),
    maxMs: times.at(-1).toFixed(1),
    mLines: lastOffer.split(/\r?\n/).filter((l) => l.startsWith('m=')).length,
    subscriberTransports: sfu.counts().subscribers,
  }),
);
sfu.close();
client.close();
for (const p of publishers) p.pc.close();
process.exit(0);
