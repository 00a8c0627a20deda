// Receiving side of bench/sfu: node-datachannel peers that answer the engine's offers and count
// the RTP packets they get (decrypted). Runs as a child process so that its CPU (one SRTP
// decrypt per packet) is not charged to the engine under test. IPC messages:
//   → {type:'offer', id, sdp}   ← {type:'answer', id, sdp}
//   → {type:'view', id}         ← {type:'viewer-offer', id, sdp}   (a WHEP-style player offers recvonly VP8)
//   → {type:'viewer-answer', id, sdp}
//   → {type:'count'}            ← {type:'count', received: number[]}   (per subscriber id)
//   → {type:'close'}            (closes every peer and exits)
import { networkInterfaces } from 'node:os';
import nodeDataChannel from 'node-datachannel';

const peers = new Map();
const received = [];
// Tracks are kept here: node-datachannel stops calling onMessage once the JS Track object is collected.
const tracks = [];
// BIND_V4=1 (run.mjs): IPv4 pairs only, the address family the Janus rows use.
const v4 = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
const BIND = process.env.BIND_V4 && v4 ? { bindAddress: v4 } : {};

function answer(id, sdp) {
  const pc = new nodeDataChannel.PeerConnection(`rx${id}`, { iceServers: [], disableAutoNegotiation: false, ...BIND });
  peers.set(id, pc);
  received[id] = 0;
  pc.onTrack((track) => {
    tracks.push(track);
    track.onMessage((msg) => {
      if (msg.length < 12 || (msg[1] & 0x7f) !== 96) return; // RTCP (SR, SDES) and other payload types
      received[id] += 1;
      if (process.env.DEBUG_RX && received[id] % 50 === 1) console.error('rx', id, msg.length, msg.readUInt16BE(2), msg.readUInt32BE(8));
    });
  });
  let sent = false;
  const send = () => {
    if (sent) return;
    sent = true;
    process.send({ type: 'answer', id, sdp: pc.localDescription().sdp });
  };
  pc.onGatheringStateChange((state) => {
    if (state === 'complete') send();
  });
  pc.setRemoteDescription(sdp, 'offer');
  if (pc.gatheringState() === 'complete') send();
}

// A viewer of the whole-SFU WHEP rows: it offers (recvonly VP8 on payload type 96), the SFU answers.
function view(id) {
  const pc = new nodeDataChannel.PeerConnection(`view${id}`, { iceServers: [], disableAutoNegotiation: true });
  peers.set(id, pc);
  received[id] = 0;
  const video = new nodeDataChannel.Video('0', 'RecvOnly');
  video.addVP8Codec(96);
  const track = pc.addTrack(video);
  tracks.push(track);
  track.onMessage((msg) => {
    if (msg.length < 12 || (msg[1] & 0x7f) !== 96) return;
    received[id] += 1;
  });
  pc.onGatheringStateChange((state) => {
    if (state === 'complete') process.send({ type: 'viewer-offer', id, sdp: pc.localDescription().sdp });
  });
  pc.setLocalDescription('offer');
}

// The publisher of the whole-SFU row: one send-only VP8 track, every packet a key frame start
// (so the SFU's layer choice starts at once), paced at RATE packets/s in 20 ms batches.
let publisher;
function publish(rate) {
  const pc = new nodeDataChannel.PeerConnection('publisher', { iceServers: [], disableAutoNegotiation: true });
  const video = new nodeDataChannel.Video('v0', 'SendOnly');
  video.addVP8Codec(96);
  video.addSSRC(0x5eed, 'bench', 'stream', 'video');
  const track = pc.addTrack(video);
  publisher = { pc, track, rate, sent: 0, timer: undefined };
  pc.onGatheringStateChange((state) => {
    if (state === 'complete') process.send({ type: 'publisher-offer', sdp: pc.localDescription().sdp });
  });
  pc.setLocalDescription('offer');
}
function startPublishing() {
  const p = publisher;
  const packet = Buffer.alloc(12 + 1200, 0xab);
  packet[0] = 0x80;
  packet[1] = 96;
  packet.writeUInt32BE(0x5eed, 8);
  packet.set([0x10, 0x00, 0x9d, 0x01, 0x2a], 12); // VP8: S=1, PID=0, P=0 (key frame)
  const perTick = (p.rate * 20) / 1000;
  p.sent = 0; // 'stopped' reports the packets of this start only, not the warm-up's before it
  let seq = p.seq ?? 0;
  p.timer = setInterval(() => {
    for (let k = 0; k < perTick; k++) {
      seq++;
      p.seq = seq;
      packet.writeUInt16BE(seq & 0xffff, 2);
      packet.writeUInt32BE((seq * 600) >>> 0, 4);
      if (p.track.isOpen()) {
        p.track.sendMessageBinary(packet);
        p.sent++;
      }
    }
  }, 20);
}

process.on('message', (msg) => {
  if (msg.type === 'offer') answer(msg.id, msg.sdp);
  else if (msg.type === 'view') view(msg.id);
  else if (msg.type === 'viewer-answer') peers.get(msg.id).setRemoteDescription(msg.sdp, 'answer');
  else if (msg.type === 'publish') publish(msg.rate);
  else if (msg.type === 'publisher-answer') publisher.pc.setRemoteDescription(msg.sdp, 'answer');
  else if (msg.type === 'start') startPublishing();
  else if (msg.type === 'stop') {
    clearInterval(publisher.timer);
    process.send({ type: 'stopped', sent: publisher.sent });
  }
  else if (msg.type === 'count') process.send({ type: 'count', received: [...received] });
  else if (msg.type === 'close') {
    for (const pc of peers.values()) pc.close();
    publisher?.pc.close();
    process.exit(0);
  }
});
