/**
 * One server under test, in its own process: `node server-child.mjs <hub|peer|socketio|bare>`.
 * Listens on 127.0.0.1, a free port, and reports `{ ev: 'ready', port }` over IPC. Accepts
 * `{ cmd: 'gc' }` (run with --expose-gc) and `{ cmd: 'stop' }`; exits when the parent goes away.
 */
import http from 'node:http';

const kind = process.argv[2];
const HOST = '127.0.0.1';

const send = (msg) => process.send?.(msg);
process.on('disconnect', () => process.exit(0));

async function startHub() {
  const spec = process.env.PINHOLE_HUB_MODULE || '@pinhole/server';
  const mod = await import(spec);
  if (typeof mod.startHub !== 'function') throw new Error(`${spec} does not export startHub`);
  const { default: pino } = await import('pino');
  const hub = await mod.startHub({
    host: HOST,
    port: 0,
    ratePerSecond: Infinity,
    maxConnectionsPerIp: Infinity,
    logger: pino({ level: 'warn' }),
  });
  return { port: hub.port ?? Number(new URL(hub.url).port), close: () => hub.close() };
}

async function startPeer() {
  const { PeerServer } = await import('peer');
  return await new Promise((resolve, reject) => {
    const ps = PeerServer({ host: HOST, port: 0, path: '/' }, (server) => {
      resolve({ port: server.address().port, close: () => new Promise((r) => server.close(() => r())) });
    });
    ps.on('error', reject);
  });
}

/** A typical socket.io 4 relay: default server options (both transports), rooms, to(peerId). */
async function startSocketIo() {
  const { Server } = await import('socket.io');
  const server = http.createServer();
  const io = new Server(server, { serveClient: false });
  io.on('connection', (socket) => {
    socket.on('join', (room, ack) => {
      const peers = [...(io.sockets.adapter.rooms.get(room) ?? [])];
      socket.join(room);
      socket.to(room).emit('peer-joined', { room, peer: socket.id });
      if (typeof ack === 'function') ack({ room, peer: socket.id, peers });
    });
    socket.on('signal', (msg) => {
      if (msg && typeof msg.to === 'string') socket.to(msg.to).emit('signal', { from: socket.id, data: msg.data });
    });
  });
  await new Promise((r) => server.listen(0, HOST, r));
  return { port: server.address().port, close: () => new Promise((r) => io.close(() => r())) };
}

/** The limit: pairs sockets by `?pair=&role=` and forwards every message verbatim to the partner. */
async function startBare() {
  const { WebSocketServer } = await import('ws');
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  const pairs = new Map();
  wss.on('connection', (ws, req) => {
    const q = new URL(req.url, 'http://x').searchParams;
    const pair = q.get('pair');
    const role = q.get('role') === 'a' ? 0 : 1;
    let slot = pairs.get(pair);
    if (!slot) pairs.set(pair, (slot = [null, null]));
    slot[role] = ws;
    ws.on('message', (data, isBinary) => {
      const other = slot[1 - role];
      if (other && other.readyState === 1) other.send(data, { binary: isBinary });
    });
    ws.on('close', () => {
      if (slot[role] === ws) slot[role] = null;
      if (!slot[0] && !slot[1]) pairs.delete(pair);
    });
  });
  await new Promise((r) => server.listen(0, HOST, r));
  return { port: server.address().port, close: () => new Promise((r) => { wss.close(); server.close(() => r()); }) };
}

const starters = { hub: startHub, peer: startPeer, socketio: startSocketIo, bare: startBare };

try {
  if (!starters[kind]) throw new Error(`unknown server kind ${kind}`);
  const srv = await starters[kind]();
  process.on('message', async (msg) => {
    if (msg?.cmd === 'gc') {
      for (let i = 0; i < 3; i++) globalThis.gc?.();
      const m = process.memoryUsage();
      send({ ev: 'gc-done', rss: m.rss, heapUsed: m.heapUsed, external: m.external + m.arrayBuffers });
    } else if (msg?.cmd === 'stop') {
      const t = setTimeout(() => process.exit(0), 2000);
      t.unref();
      try { await srv.close(); } catch { /* exiting anyway */ }
      process.exit(0);
    }
  });
  send({ ev: 'ready', port: srv.port });
} catch (err) {
  send({ ev: 'failed', error: String(err?.stack || err) });
  process.exit(1);
}
