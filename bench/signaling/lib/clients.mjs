/**
 * Minimal clients, one class per target protocol, all with the same face:
 *
 *   const ep = new X(opts, pairIndex, role);   // role 'a' (initiator) or 'b' (echoer)
 *   await ep.open();                           // transport up, session established
 *   await ep.join();                           // in the pair's room (resolves; partner may come later)
 *   await ep.partnerKnown;                     // address of the other end is known
 *   ep.onData = (data) => …;                   // every signal payload addressed to us
 *   ep.send(data);                             // signal payload to the partner
 *   ep.tick(now);                              // housekeeping every 100 ms (idle acks, heartbeats)
 *   ep.close();
 *
 * `opts.counts.requests` counts the HTTP requests the clients issue (HTTP transports), so a
 * run can report how many signals each request carried.
 *
 * Protocol problems are never thrown on the hot path: they are counted in `opts.problems`
 * (a Map of text → count) so the run can report them.
 */
import http from 'node:http';
import WebSocket from 'ws';

const ACK_EVERY_FRAMES = 50;
const ACK_IDLE_MS = 100;

function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

function problem(opts, text) {
  const key = String(text).slice(0, 300);
  opts.problems.set(key, (opts.problems.get(key) ?? 0) + 1);
}

class Base {
  constructor(opts, pair, role) {
    this.opts = opts;
    this.pair = pair;
    this.role = role;
    this.room = `pair-${opts.nonce}-${pair}`;
    this.partner = undefined;
    this._partner = deferred();
    this.partnerKnown = this._partner.promise;
    this.onData = () => {};
    this.closed = false;
  }
  _setPartner(id) {
    if (this.partner === undefined) {
      this.partner = id;
      this._partner.resolve(id);
    }
  }
  _fail(text) {
    problem(this.opts, text);
  }
  tick() {}
}

// ------------------------------------------------------------------------------ Pinhole hub

/** Sequencing, acks and frame dispatch shared by the three hub transports. */
class HubBase extends Base {
  constructor(opts, pair, role) {
    super(opts, pair, role);
    this.lastSeq = 0; // highest seq received
    this.ackSent = 0; // highest seq acknowledged to the hub
    this.lastAckAt = 0;
    this.nextId = 1;
    this._joined = deferred();
    this._welcome = deferred();
  }

  _frame(f) {
    if (f.type === 'welcome') {
      this.session = f.session;
      this.key = f.key;
      this.peer = f.peer;
      this.lastSeq = this.ackSent = f.seq ?? 0;
      this._welcome.resolve(f);
      return;
    }
    if (typeof f.seq === 'number') {
      if (f.seq <= this.lastSeq) { this._fail(`hub: duplicate seq (${f.type})`); return; }
      if (f.seq !== this.lastSeq + 1) this._fail('hub: seq gap');
      this.lastSeq = f.seq;
    } else if (f.type !== 'pong') {
      this._fail(`hub: frame without seq: ${f.type}`);
    }
    switch (f.type) {
      case 'signal':
        this.onData(f.data);
        break;
      case 'joined':
        if (f.room === this.room) {
          const other = (f.peers ?? []).find((p) => p.peer !== this.peer);
          if (other) this._setPartner(other.peer);
          this._joined.resolve();
        }
        break;
      case 'peer-joined':
        if (f.room === this.room && f.peer !== this.peer) this._setPartner(f.peer);
        break;
      case 'peer-left':
        this._fail(`hub: peer-left (${f.reason}) during run`);
        break;
      case 'error':
        this._fail(`hub: error ${f.code}: ${f.message}`);
        if (!this.partner) this._joined.reject(new Error(`hub error ${f.code}: ${f.message}`));
        break;
      default:
        break;
    }
    if (this.lastSeq - this.ackSent >= ACK_EVERY_FRAMES) this._sendAck();
  }

  /** Piggy-back the cumulative ack on an outgoing frame if it says something new. */
  _withAck(frame) {
    if (this.lastSeq > this.ackSent) {
      frame.ack = this.lastSeq;
      this.ackSent = this.lastSeq;
      this.lastAckAt = performance.now();
    }
    return frame;
  }

  _sendAck() {
    this.ackSent = this.lastSeq;
    this.lastAckAt = performance.now();
    this._out({ type: 'ack', seq: this.lastSeq });
  }

  tick(now) {
    if (this.lastSeq > this.ackSent && now - this.lastAckAt >= ACK_IDLE_MS) this._sendAck();
  }

  async join() {
    this._out(this._withAck({ type: 'join', id: this.nextId++, room: this.room }));
    await this._joined.promise;
  }

  send(data) {
    this._out(this._withAck({ type: 'signal', id: this.nextId++, to: this.partner, data }));
  }
}

export class HubWs extends HubBase {
  async open() {
    const ws = (this.ws = new WebSocket(`ws://${this.opts.host}:${this.opts.port}/v1/ws`));
    // As the SDK's WebSocket link: `batch` lets the hub send a tick's frames as one array.
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', batch: true })));
    ws.on('message', (buf) => {
      let f;
      try { f = JSON.parse(buf); } catch { this._fail('hub-ws: bad JSON from hub'); return; }
      if (Array.isArray(f)) for (const frame of f) this._frame(frame);
      else this._frame(f);
    });
    ws.on('error', (err) => { this._fail(`hub-ws: socket error ${err.message}`); this._welcome.reject(err); });
    ws.on('close', (code, reason) => {
      if (!this.closed) this._fail(`hub-ws: closed by hub ${code} ${reason}`);
      this._welcome.reject(new Error(`closed ${code}`));
      this._joined.reject(new Error(`closed ${code}`));
    });
    await this._welcome.promise;
    this.extensions = ws.extensions;
  }
  /** As the SDK's WebSocket link: frames written in one task leave as one message. */
  _out(frame) {
    this.queue ??= [];
    if (this.queue.push(frame) > 1) return;
    queueMicrotask(() => {
      const q = this.queue;
      this.queue = [];
      if (this.ws.readyState === 1) this.ws.send(JSON.stringify(q.length === 1 ? q[0] : q));
    });
  }
  close() {
    this.closed = true;
    this.ws?.close();
  }
}

/** Plain node:http request with a keep-alive agent; resolves { status, body }. */
function request(opts, method, path, body) {
  opts.counts.requests++;
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = http.request({ agent: opts.agent, method, host: opts.host, port: opts.port, path, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** SSE and long-poll share hello-over-POST and the batched POST /v1/send path. */
class HubHttp extends HubBase {
  constructor(opts, pair, role) {
    super(opts, pair, role);
    this.queue = [];
    this.posting = false;
  }
  _path(p, extra = '') {
    return `${p}?session=${encodeURIComponent(this.session)}&key=${encodeURIComponent(this.key)}${extra}`;
  }
  async _hello() {
    const { status, body } = await request(this.opts, 'POST', '/v1/send', JSON.stringify({ type: 'hello' }));
    if (status !== 200) throw new Error(`hello: HTTP ${status} ${body.slice(0, 200)}`);
    this._frame(JSON.parse(body));
    this.sendPath = this._path('/v1/send'); // built once, as the socket.io client keeps `this.path`
  }
  /** One POST in flight per client; frames queued meanwhile go out together as an array. */
  _out(frame) {
    this.queue.push(frame);
    if (this.posting || this.holding || this.flushQueued) return;
    // Frames written in the same task (the echoes of one received chunk) go in one POST.
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      if (!this.posting) this._flush();
    });
  }
  /**
   * Same work per POST as the socket.io client's `_flush`: a 200 answer's body is discarded
   * unread (the hub's `{ok,lastId,seq}` is not needed here); only an error answer is read.
   */
  _flush() {
    if (this.queue.length === 0 || this.closed) return;
    const batch = this.queue;
    this.queue = [];
    this.posting = true;
    const body = JSON.stringify(batch.length === 1 ? batch[0] : batch);
    const done = () => {
      this.posting = false;
      this._flush();
    };
    this.opts.counts.requests++;
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = http.request({ agent: this.opts.agent, method: 'POST', host: this.opts.host, port: this.opts.port, path: this.sendPath, headers }, (res) => {
      if (res.statusCode === 200) {
        res.resume();
        res.on('end', done);
        return;
      }
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        this._fail(`hub-http: POST /v1/send → ${res.statusCode} ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`);
        done();
      });
    });
    req.on('error', (err) => {
      if (!this.closed) this._fail(`hub-http: POST failed ${err.message}`);
      done();
    });
    req.end(body);
  }
}

export class HubSse extends HubHttp {
  async open() {
    await this._hello();
    this.opts.counts.requests++;
    await new Promise((resolve, reject) => {
      const req = http.get({ agent: this.opts.agent, host: this.opts.host, port: this.opts.port, path: this._path('/v1/sse'), headers: { accept: 'text/event-stream' } }, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET /v1/sse → ${res.statusCode}`));
          res.resume();
          return;
        }
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (chunk) => {
          buf += chunk;
          let end;
          while ((end = buf.indexOf('\n\n')) !== -1) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            this._event(block);
          }
        });
        res.on('end', () => { if (!this.closed) this._fail('hub-sse: stream ended by hub'); });
        res.on('error', () => {});
        resolve();
      });
      req.on('error', (err) => { if (!this.closed) this._fail(`hub-sse: ${err.message}`); reject(err); });
      this.req = req;
    });
  }
  _event(block) {
    let data = null;
    for (const line of block.split('\n')) {
      if (line.startsWith('data:')) {
        const v = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
        data = data === null ? v : `${data}\n${v}`;
      }
      // `id:` repeats the frame's seq, `:` lines are heartbeats, `event:`/`retry:` unused here.
    }
    if (data === null) return;
    let f;
    try { f = JSON.parse(data); } catch { this._fail('hub-sse: bad JSON event'); return; }
    this._frame(f);
  }
  close() {
    this.closed = true;
    this.req?.destroy();
  }
}

export class HubPoll extends HubHttp {
  async open() {
    await this._hello();
    this._loop();
  }
  /**
   * Frames queued while an answer was handled (the echoes) ride on the next poll, a
   * `POST /v1/poll`, as the SDK's poll link does, unless a POST /v1/send is in flight.
   */
  _loop() {
    if (this.closed) return;
    const path = this._path('/v1/poll', `&ack=${this.lastSeq}`);
    if (this.lastSeq > this.ackSent) { this.ackSent = this.lastSeq; this.lastAckAt = performance.now(); }
    this.opts.counts.requests++;
    let body;
    if (!this.posting && this.queue.length > 0) {
      body = JSON.stringify(this.queue.length === 1 ? this.queue[0] : this.queue);
      this.queue = [];
    }
    const headers = body === undefined ? undefined : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = http.request({ agent: this.opts.agent, method: body === undefined ? 'GET' : 'POST', host: this.opts.host, port: this.opts.port, path, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if (this.closed) return;
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) {
          this._fail(`hub-poll: ${body === undefined ? "GET" : "POST"} /v1/poll → ${res.statusCode} ${text.slice(0, 200)}`);
          setTimeout(() => this._loop(), 100);
          return;
        }
        let frames;
        try { frames = JSON.parse(text); } catch { this._fail('hub-poll: bad JSON'); frames = []; }
        if (!Array.isArray(frames)) { this._fail('hub-poll: response is not an array'); frames = []; }
        this.holding = true;
        for (const f of frames) this._frame(f);
        this.holding = false;
        this._loop();
      });
      res.on('error', () => {});
    });
    req.on('error', (err) => {
      if (this.closed) return;
      this._fail(`hub-poll: ${err.message}`);
      setTimeout(() => this._loop(), 100);
    });
    req.end(body);
    this.req = req;
  }
  close() {
    this.closed = true;
    this.req?.destroy();
  }
}

// ------------------------------------------------------------------------------ PeerJS server

/** Raw client for the PeerJS server's WebSocket protocol (what the peerjs browser lib speaks). */
export class PeerJs extends Base {
  constructor(opts, pair, role) {
    super(opts, pair, role);
    this.id = `${opts.nonce}-${role}-${pair}`;
    this.lastBeat = 0;
  }
  async open() {
    const token = Math.random().toString(36).slice(2);
    const ws = (this.ws = new WebSocket(`ws://${this.opts.host}:${this.opts.port}/peerjs?key=peerjs&id=${encodeURIComponent(this.id)}&token=${token}`));
    const opened = deferred();
    ws.on('message', (buf) => {
      let m;
      try { m = JSON.parse(buf); } catch { this._fail('peer: bad JSON'); return; }
      if (m.type === 'OPEN') opened.resolve();
      else if (m.type === 'OFFER' || m.type === 'ANSWER' || m.type === 'CANDIDATE') this.onData(m.payload);
      else if (m.type === 'ERROR' || m.type === 'ID-TAKEN') { this._fail(`peer: ${m.type} ${m.payload?.msg}`); opened.reject(new Error(m.type)); }
      else if (m.type === 'LEAVE' || m.type === 'EXPIRE') this._fail(`peer: ${m.type}`);
    });
    ws.on('error', (err) => { this._fail(`peer: socket error ${err.message}`); opened.reject(err); });
    ws.on('close', (code) => { if (!this.closed) this._fail(`peer: closed by server ${code}`); opened.reject(new Error(`closed ${code}`)); });
    await opened.promise;
    this.extensions = ws.extensions;
  }
  async join() {
    this._setPartner(`${this.opts.nonce}-${this.role === 'a' ? 'b' : 'a'}-${this.pair}`);
  }
  send(data) {
    this.ws.send(JSON.stringify({ type: 'CANDIDATE', dst: this.partner, payload: data }));
  }
  tick(now) {
    // The peerjs client library sends a HEARTBEAT every 5 s.
    if (now - this.lastBeat >= 5000 && this.ws.readyState === 1) {
      this.lastBeat = now;
      this.ws.send('{"type":"HEARTBEAT"}');
    }
  }
  close() {
    this.closed = true;
    this.ws?.close();
  }
}

// ------------------------------------------------------------------------------ socket.io

/**
 * socket.io with the official client library (socket.io-client). Correct by construction but
 * expensive per message in Node (it saturates the generator), so it is only used with
 * `--sio-client official`, to cross-check the raw client below.
 */
export class SocketIoOfficial extends Base {
  async open() {
    const { io } = await import('socket.io-client');
    const transport = this.opts.sioTransport; // 'websocket' | 'polling'
    const socket = (this.socket = io(`http://${this.opts.host}:${this.opts.port}`, {
      transports: [transport],
      upgrade: false,
      forceNew: true,
      reconnection: false,
      agent: transport === 'polling' ? this.opts.agent : undefined,
    }));
    socket.on('signal', (m) => this.onData(m.data));
    socket.on('peer-joined', (m) => { if (m.room === this.room && m.peer !== socket.id) this._setPartner(m.peer); });
    socket.on('disconnect', (reason) => { if (!this.closed) this._fail(`socket.io: disconnect ${reason}`); });
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', (err) => { this._fail(`socket.io: connect_error ${err.message}`); reject(err); });
    });
  }
  async join() {
    const res = await this.socket.timeout(10_000).emitWithAck('join', this.room);
    const other = res.peers.find((p) => p !== this.socket.id);
    if (other) this._setPartner(other);
  }
  send(data) {
    this.socket.emit('signal', { to: this.partner, data });
  }
  close() {
    this.closed = true;
    this.socket?.close();
  }
}

/**
 * socket.io spoken raw (Engine.IO v4 + socket.io v5 packet encoding, default namespace), over
 * WebSocket or HTTP long-polling. Same per-message work as our other raw clients, so the
 * generator costs about the same for every target. Packets: engine.io `0` open, `2` ping,
 * `3` pong, `4` message; socket.io inside `4`: `0` CONNECT, `2` EVENT, `3` ACK
 * (`42["signal",{…}]`, `420["join","room"]` → `430[{…}]`). Polling payloads join packets
 * with \x1e; one GET and at most one POST in flight (engine.io rejects overlaps).
 */
export class SocketIoRaw extends Base {
  constructor(opts, pair, role) {
    super(opts, pair, role);
    this.sid = undefined; // socket.io socket id (what rooms and to() use)
    this._connected = deferred();
    this._joinAck = deferred();
    this.queue = [];
    this.posting = false;
  }

  _packet(p) {
    const t = p.charCodeAt(0);
    if (t === 52 /* '4' */) {
      const k = p.charCodeAt(1);
      if (k === 50 /* '2' EVENT */) {
        const [ev, arg] = JSON.parse(p.slice(2));
        if (ev === 'signal') this.onData(arg.data);
        else if (ev === 'peer-joined') { if (arg.room === this.room && arg.peer !== this.sid) this._setPartner(arg.peer); }
      } else if (k === 51 /* '3' ACK */) {
        let i = 2;
        while (p.charCodeAt(i) >= 48 && p.charCodeAt(i) <= 57) i++;
        this._joinAck.resolve(JSON.parse(p.slice(i))[0]);
      } else if (k === 48 /* '0' CONNECT */) {
        this.sid = JSON.parse(p.slice(2)).sid;
        this._connected.resolve();
      } else {
        this._fail(`socket.io raw: unexpected packet ${p.slice(0, 40)}`);
      }
    } else if (t === 50 /* '2' ping */) {
      this._out('3');
    } else if (t === 48 /* '0' open */) {
      this.eioSid = JSON.parse(p.slice(1)).sid;
    } else if (t === 49 /* '1' close */) {
      if (!this.closed) this._fail('socket.io raw: closed by server');
    } else if (t !== 54 /* '6' noop */) {
      this._fail(`socket.io raw: unexpected engine.io packet ${p.slice(0, 40)}`);
    }
  }

  async open() {
    const base = `/socket.io/?EIO=4&transport=${this.opts.sioTransport}`;
    if (this.opts.sioTransport === 'websocket') {
      const ws = (this.ws = new WebSocket(`ws://${this.opts.host}:${this.opts.port}${base}`));
      ws.on('message', (buf) => this._packet(buf.toString()));
      ws.on('error', (err) => { this._fail(`socket.io raw ws: ${err.message}`); this._connected.reject(err); });
      ws.on('close', (code) => { if (!this.closed) this._fail(`socket.io raw ws: closed ${code}`); this._connected.reject(new Error('closed')); });
      ws.on('open', () => ws.send('40'));
      this._out = (p) => { if (ws.readyState === 1) ws.send(p); };
      await this._connected.promise;
      this.extensions = ws.extensions;
    } else {
      const hs = await request(this.opts, 'GET', base);
      if (hs.status !== 200) throw new Error(`engine.io handshake → ${hs.status}`);
      for (const p of hs.body.split('\x1e')) this._packet(p);
      this.path = `${base}&sid=${encodeURIComponent(this.eioSid)}`;
      this._out = (p) => { this.queue.push(p); if (!this.posting) this._flush(); };
      this._out('40');
      this._poll();
      await this._connected.promise;
    }
  }

  _flush() {
    if (this.queue.length === 0 || this.closed) return;
    const body = this.queue.join('\x1e');
    this.queue = [];
    this.posting = true;
    const headers = { 'content-type': 'text/plain;charset=UTF-8', 'content-length': Buffer.byteLength(body) };
    this.opts.counts.requests++;
    const req = http.request({ agent: this.opts.agent, method: 'POST', host: this.opts.host, port: this.opts.port, path: this.path, headers }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) this._fail(`socket.io raw: POST → ${res.statusCode}`);
        this.posting = false;
        this._flush();
      });
    });
    req.on('error', (err) => { if (!this.closed) this._fail(`socket.io raw: POST ${err.message}`); this.posting = false; });
    req.end(body);
  }

  _poll() {
    if (this.closed) return;
    this.opts.counts.requests++;
    const req = http.get({ agent: this.opts.agent, host: this.opts.host, port: this.opts.port, path: this.path }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if (this.closed) return;
        if (res.statusCode !== 200) { this._fail(`socket.io raw: GET → ${res.statusCode}`); return; }
        for (const p of Buffer.concat(chunks).toString('utf8').split('\x1e')) this._packet(p);
        this._poll();
      });
    });
    req.on('error', (err) => { if (!this.closed) this._fail(`socket.io raw: GET ${err.message}`); });
    this.req = req;
  }

  async join() {
    this._out(`420${JSON.stringify(['join', this.room])}`);
    const res = await this._joinAck.promise;
    const other = res.peers.find((p) => p !== this.sid);
    if (other) this._setPartner(other);
  }

  send(data) {
    this._out(`42${JSON.stringify(['signal', { to: this.partner, data }])}`);
  }

  close() {
    if (this.closed) return;
    if (this.ws) { this.closed = true; this.ws.close(); return; }
    this._out('1'); // engine.io close, then stop polling
    this.closed = true;
    this.req?.destroy();
  }
}

// ------------------------------------------------------------------------------ bare ws forwarder

export class BareWs extends Base {
  async open() {
    const ws = (this.ws = new WebSocket(`ws://${this.opts.host}:${this.opts.port}/?pair=${this.opts.nonce}-${this.pair}&role=${this.role}`));
    ws.on('message', (buf) => {
      let d;
      try { d = JSON.parse(buf); } catch { this._fail('bare: bad JSON'); return; }
      this.onData(d);
    });
    ws.on('close', (code) => { if (!this.closed) this._fail(`bare: closed ${code}`); });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', (err) => { this._fail(`bare: ${err.message}`); reject(err); });
    });
    this.extensions = ws.extensions;
  }
  async join() {
    this._setPartner('partner');
  }
  send(data) {
    this.ws.send(JSON.stringify(data));
  }
  close() {
    this.closed = true;
    this.ws?.close();
  }
}

export const CLIENTS = {
  'hub-ws': HubWs,
  'hub-sse': HubSse,
  'hub-poll': HubPoll,
  peer: PeerJs,
  'socket.io': SocketIoRaw,
  'socket.io polling': SocketIoRaw,
  'bare-ws': BareWs,
};
