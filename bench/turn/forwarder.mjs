// Child process: the floor of what a Node relay can do. A bare dgram forwarder that handles the
// same packets as TURN: a client registers ("REG <sinkPort>"), then each ChannelData datagram
// it sends loses its 4-byte header and goes to that sink from a per-client relay socket; what
// comes back to the relay socket gets a ChannelData header and goes back to the client.
import { createSocket } from 'node:dgram';

const listener = createSocket('udp4');
const routes = new Map();
listener.on('message', (msg, rinfo) => {
  const key = `${rinfo.address}:${rinfo.port}`;
  const route = routes.get(key);
  if (route) {
    route.relay.send(msg.subarray(4), route.sinkPort, '127.0.0.1');
    return;
  }
  const text = msg.toString('latin1');
  if (!text.startsWith('REG ')) return;
  const relay = createSocket('udp4');
  relay.on('message', (data) => {
    const out = Buffer.allocUnsafe(4 + data.length);
    out.writeUInt16BE(0x4000, 0);
    out.writeUInt16BE(data.length, 2);
    data.copy(out, 4);
    listener.send(out, rinfo.port, rinfo.address);
  });
  relay.bind(0, '127.0.0.1', () => {
    try {
      relay.setSendBufferSize(4 << 20);
    } catch {}
    routes.set(key, { relay, sinkPort: Number(text.slice(4)) });
    listener.send('OK', rinfo.port, rinfo.address);
  });
});
listener.bind(0, '127.0.0.1', () => {
  try {
    listener.setRecvBufferSize(4 << 20);
  } catch {}
  process.send?.({ port: listener.address().port });
});
process.on('message', (msg) => {
  if (msg === 'stop') process.exit(0);
});
