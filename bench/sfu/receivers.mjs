// Receiving side of bench/sfu: node-datachannel peers that answer the engine's offers and count
// the RTP packets they get (decrypted). Runs as a child process so that its CPU (one SRTP
// decrypt per packet) is not charged to the engine under test. IPC messages:
//   → {type:'offer', id, sdp}   ← {type:'answer', id, sdp}
//   → {type:'count'}            ← {type:'count', received: number[]}   (per subscriber id)
//   → {type:'close'}            (closes every peer and exits)
import nodeDataChannel from 'node-datachannel';

const peers = new Map();
const received = [];
// Tracks are kept here: node-datachannel stops calling onMessage once the JS Track object is collected.
const tracks = [];

function answer(id, sdp) {
  const pc = new nodeDataChannel.PeerConnection(`rx${id}`, { iceServers: [], disableAutoNegotiation: false });
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

process.on('message', (msg) => {
  if (msg.type === 'offer') answer(msg.id, msg.sdp);
  else if (msg.type === 'count') process.send({ type: 'count', received: [...received] });
  else if (msg.type === 'close') {
    for (const pc of peers.values()) pc.close();
    process.exit(0);
  }
});
