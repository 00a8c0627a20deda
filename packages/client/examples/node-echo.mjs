#!/usr/bin/env node
/**
 * Two roles in one script, for a hub started with `npm start` (pinhole serve, dev mode):
 *
 *   node packages/client/examples/node-echo.mjs serve https://localhost:8443 demo
 *   node packages/client/examples/node-echo.mjs ping  https://localhost:8443 demo
 *
 * `serve` echoes every message on the `echo` channel; `ping` sends one every second and
 * prints the round trip and the connectivity report. Build first (`npm run build`).
 * The dev hub's certificate is self-signed: this example passes `insecure: true`; in
 * production pass `ca` (or nothing, for a publicly trusted certificate).
 */
import { connect } from '@pinhole/node';

const [role = 'ping', url = 'https://localhost:8443', roomName = 'demo'] = process.argv.slice(2);
const session = await connect(url, { insecure: true });
session.on('reconnecting', ({ attempt, delayMs }) => console.log(`reconnecting (attempt ${attempt}, in ${delayMs} ms)`));
session.on('transport-changed', ({ from, to }) => console.log(`signaling moved ${from} → ${to}`));
const room = await session.join(roomName, { role });
console.log(`joined ${roomName} as ${session.peerId} over ${session.transport}; ${room.peers.size} peer(s) here`);

if (role === 'serve') {
  room.on('peer-joined', (peer) => {
    console.log(`peer ${peer.id} joined`, peer.meta);
    peer.on('channel', (ch) => ch.on('message', ({ data }) => ch.send(data)));
  });
} else {
  const target = [...room.peers.values()].find((p) => p.meta.role === 'serve') ?? (await room.next('peer-joined'));
  const echo = target.channel('echo');
  echo.on('message', async ({ data }) => {
    const report = await target.report();
    console.log(`rtt ${(performance.now() - data.t).toFixed(1)} ms via ${report.candidateType.local}/${report.protocol}, signaling ${report.transport}`);
  });
  setInterval(() => echo.send({ t: performance.now() }), 1000);
}

process.on('SIGINT', async () => {
  await session.close();
  process.exit(0);
});
