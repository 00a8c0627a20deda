// Child process: our TURN server on 127.0.0.1, ports reported to the parent over IPC.
import { importTurn } from './import-turn.mjs';

const { turn } = await importTurn();
const [secret, minPort, maxPort] = process.argv.slice(2);
const server = await turn.startTurnServer({
  listeningIp: '127.0.0.1',
  udpPort: 0,
  tcpPort: 0,
  secret,
  allowPeers: ['127.0.0.0/8'],
  minPort: Number(minPort),
  maxPort: Number(maxPort),
  // The benchmark measures the relay path, so the per-allocation cap is off.
  bandwidthBytesPerSecond: 0,
});
process.send?.({ port: server.ports.udp });
process.on('message', async (msg) => {
  if (msg === 'stats') process.send?.({ stats: server.stats() });
  if (msg === 'stop') {
    await server.close();
    process.exit(0);
  }
});
