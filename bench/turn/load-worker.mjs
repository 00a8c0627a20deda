// Worker thread: one client allocation (or forwarder route) and one UDP sink. Sends ChannelData
// at a paced rate and counts what reaches the sink.
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { importTurn } from './import-turn.mjs';

// echo: the sink sends every packet back to where it came from (the relayed address), and what
// counts as received is what comes back to the client: the relay path both ways.
const { mode, port, username, password, payloadSize, echo = false } = workerData;
const CHANNEL = 0x4000;
const { turn } = await importTurn();

const sink = createSocket('udp4');
const client = createSocket('udp4');
await Promise.all([new Promise((r) => sink.bind(0, '127.0.0.1', r)), new Promise((r) => client.bind(0, '127.0.0.1', r))]);
for (const s of [sink, client]) {
  try {
    s.setRecvBufferSize(4 << 20);
    s.setSendBufferSize(4 << 20);
  } catch {}
}
// 'direct' is the no-relay baseline: the generator sends straight to its own sink.
client.connect(mode === 'direct' ? sink.address().port : port, '127.0.0.1');
await once(client, 'connect');
let received = 0;
let onSink;
const arrived = () => {
  received++;
  onSink?.();
};
if (echo) sink.on('message', (msg, rinfo) => sink.send(msg, rinfo.port, rinfo.address));
else sink.on('message', arrived);

/** Send a request (retransmitted every 500 ms, 4 tries) and wait for the matching response. */
async function transact(message, key) {
  const bytes = message.encode({ ...(key && { integrity: { key, algorithm: 'sha1' } }), fingerprint: true });
  const id = message.transactionId.toString('hex');
  for (let attempt = 0; attempt < 4; attempt++) {
    client.send(bytes);
    const response = await new Promise((resolve) => {
      const timer = setTimeout(() => {
        client.off('message', onMessage);
        resolve(undefined);
      }, 500);
      function onMessage(data) {
        try {
          const m = turn.decodeStunMessage(data);
          if (m.transactionId.toString('hex') !== id) return;
          clearTimeout(timer);
          client.off('message', onMessage);
          resolve(m);
        } catch {}
      }
      client.on('message', onMessage);
    });
    if (response) return response;
  }
  throw new Error('no response from the server');
}

async function setupTurn() {
  const { Method, MessageClass, StunMessage, longTermKey } = turn;
  const allocate = () => new StunMessage(Method.Allocate, MessageClass.Request).add('REQUESTED-TRANSPORT', 17);
  const challenge = await transact(allocate());
  const realm = challenge.get('REALM');
  const nonce = challenge.get('NONCE');
  const key = longTermKey(username, realm, password);
  const sign = (m) => m.add('USERNAME', username).add('REALM', realm).add('NONCE', nonce);
  const allocated = await transact(sign(allocate()), key);
  const relayed = allocated.get('XOR-RELAYED-ADDRESS');
  if (!relayed) throw new Error(`Allocate failed: ${allocated.get('ERROR-CODE')?.code}`);
  const peer = { family: 4, address: '127.0.0.1', port: sink.address().port };
  const bind = sign(new StunMessage(Method.ChannelBind, MessageClass.Request).add('CHANNEL-NUMBER', CHANNEL).add('XOR-PEER-ADDRESS', peer));
  const bound = await transact(bind, key);
  if (bound.get('ERROR-CODE')) throw new Error(`ChannelBind failed: ${bound.get('ERROR-CODE').code}`);
}

async function setupRaw() {
  client.send(`REG ${sink.address().port}`);
  await once(client, 'message');
}

if (mode === 'turn') await setupTurn();
else if (mode === 'raw') await setupRaw();
if (echo) client.on('message', arrived);
const packet = turn.encodeChannelData(CHANNEL, Buffer.alloc(payloadSize, 0x5a), false);

/** Send `rate` packets/s for `durationMs`, then wait for stragglers and report. */
async function trial(rate, durationMs) {
  received = 0;
  let sent = 0;
  const start = performance.now();
  await new Promise((resolve) => {
    const pump = () => {
      const elapsed = performance.now() - start;
      if (elapsed >= durationMs) return resolve();
      let burst = Math.min(Math.floor((elapsed * rate) / 1000) - sent, 512);
      while (burst-- > 0) {
        client.send(packet);
        sent++;
      }
      setImmediate(pump);
    };
    pump();
  });
  const elapsedMs = performance.now() - start;
  await new Promise((r) => setTimeout(r, 300));
  return { sent, received, elapsedMs };
}

/**
 * Send `count` packets one at a time, each after the previous one reached the sink (or was
 * given up on after 1 s): every packet is then a wake-up of its own for the relay, whatever the
 * load of the machine. Reports how many arrived.
 */
async function lockstep(count) {
  received = 0;
  for (let i = 0; i < count; i++) {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 1000);
      onSink = () => {
        clearTimeout(timer);
        resolve();
      };
      client.send(packet);
    });
  }
  onSink = undefined;
  return { sent: count, received };
}

parentPort.on('message', async (msg) => {
  if (msg.cmd === 'lockstep') parentPort.postMessage({ result: await lockstep(msg.count) });
  if (msg.cmd === 'trial') parentPort.postMessage({ result: await trial(msg.rate, msg.durationMs) });
  if (msg.cmd === 'stop') {
    client.close();
    sink.close();
    parentPort.postMessage({ stopped: true });
  }
});
parentPort.postMessage({ ready: true });
