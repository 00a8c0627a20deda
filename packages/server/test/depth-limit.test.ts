/**
 * The nesting limit (MAX_FRAME_DEPTH, protocol/hub.md §7) on every path that takes client frames,
 * on both cores: frames at the limit go through; frames one level over, and a ~10 KB frame
 * nested 5,000 deep, get `bad-frame` with their `ref` before anything else reads them. Their
 * ids are consumed (`lastId` moves) and no receiver's `seq` skips a number.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MAX_FRAME_DEPTH, type ErrorFrame, type Json, type ServerFrame, type WelcomeFrame } from '@pinhole/protocol';
import type { RunningHub } from '../src/index.js';
import type { TestClient } from './support/client.js';
import { joined, testCores } from './support/hub.js';

const MAX_FRAME_BYTES = 16_384;
const ROOM = 'deep';

let hub: RunningHub;
let receiver: TestClient;
afterEach(async () => {
  await receiver?.close();
  await hub?.close();
});

const cores = testCores();

/** `levels` nested arrays around `leaf`, built as text: no recursion on this side either. */
const nested = (levels: number, leaf = '0'): string => '['.repeat(levels) + leaf + ']'.repeat(levels);
/** A signal's or broadcast's data that puts the frame (level 1) exactly `depth` levels deep. */
const dataOf = (depth: number, leaf?: string): string => nested(depth - 1, leaf);

/** The frames every path sends after the sender's join (id 1), and what each must cause. */
function frames(to: string, pad: string): string[] {
  return [
    `{"type":"signal","id":2,"to":"${to}","data":${dataOf(MAX_FRAME_DEPTH, JSON.stringify(pad))}}`, // at the limit: delivered
    `{"type":"signal","id":3,"to":"${to}","data":${dataOf(MAX_FRAME_DEPTH + 1)}}`,
    `{"type":"broadcast","id":4,"room":"${ROOM}","data":${dataOf(MAX_FRAME_DEPTH + 1)}}`,
    `{"type":"join","id":5,"room":"elsewhere","meta":{"m":${nested(MAX_FRAME_DEPTH - 1)}}}`, // meta is level 2
    `{"type":"signal","id":6,"to":"${to}","data":${nested(5000)}}`, // ~10 KB, 5,000 deep
    `{"type":"broadcast","id":7,"room":"${ROOM}","data":${dataOf(MAX_FRAME_DEPTH)}}`, // at the limit: delivered
  ];
}
const REFUSED = [
  { code: 'bad-frame', ref: 3, frame: 'signal' },
  { code: 'bad-frame', ref: 4, frame: 'broadcast' },
  { code: 'bad-frame', ref: 5, frame: 'join' },
  { code: 'bad-frame', ref: 6, frame: 'signal' },
];

/** What the sender saw: its sequenced frames, its welcome, and `lastId` after a final ping (id 8). */
interface Sent {
  welcome: WelcomeFrame;
  sequenced: ServerFrame[];
  lastId: number;
}

type Path = 'ws' | 'ws batch' | 'POST /v1/send' | 'POST /v1/send batch' | 'POST /v1/poll';
const PATHS: Path[] = ['ws', 'ws batch', 'POST /v1/send', 'POST /v1/send batch', 'POST /v1/poll'];

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A raw WebSocket sender: joins (id 1), sends `texts` one per message or as one array, then pings (id 8). */
async function sendWs(texts: string[], batch: boolean): Promise<Sent> {
  const ws = new WebSocket(`${hub.url.replace(/^http/, 'ws')}/v1/ws`);
  const got: ServerFrame[] = [];
  ws.on('message', (data) => got.push(JSON.parse(String(data)) as ServerFrame));
  try {
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send('{"type":"hello"}');
    await until('welcome', () => got.some((f) => f.type === 'welcome'));
    ws.send(`{"type":"join","id":1,"room":"${ROOM}"}`);
    await until('joined', () => got.some((f) => f.type === 'joined'));
    if (batch) ws.send(`[${texts.join(',')}]`);
    else for (const text of texts) ws.send(text);
    ws.send('{"type":"ping","id":8}');
    await until('pong and every error', () => got.some((f) => f.type === 'pong') && got.filter((f) => f.type === 'error').length >= REFUSED.length);
    const pong = got.find((f) => f.type === 'pong') as { lastId: number };
    return { welcome: got.find((f) => f.type === 'welcome') as WelcomeFrame, sequenced: got.filter((f) => 'seq' in f && f.type !== 'welcome'), lastId: pong.lastId };
  } finally {
    ws.terminate();
  }
}

/** An HTTP sender: hello and join over POST /v1/send, `texts` over `path`, a ping (id 8), then one poll collects its stream. */
async function sendHttp(texts: string[], path: Exclude<Path, 'ws' | 'ws batch'>): Promise<Sent> {
  const post = async (url: string, body: string): Promise<Response> => {
    const res = await fetch(`${hub.url}${url}`, { method: 'POST', body });
    expect(res.status).toBe(200);
    return res;
  };
  const welcome = (await (await post('/v1/send', '{"type":"hello"}')).json()) as WelcomeFrame;
  const q = `session=${welcome.session}&key=${encodeURIComponent(welcome.key)}`;
  await post(`/v1/send?${q}`, `{"type":"join","id":1,"room":"${ROOM}"}`);
  if (path === 'POST /v1/send') for (const text of texts) await post(`/v1/send?${q}`, text);
  else if (path === 'POST /v1/send batch') await post(`/v1/send?${q}`, `[${texts.join(',')}]`);
  else await (await post(`/v1/poll?${q}&ack=0`, `[${texts.join(',')}]`)).json();
  const { lastId } = (await (await post(`/v1/send?${q}`, '{"type":"ping","id":8}')).json()) as { lastId: number };
  // Nothing is acknowledged yet: a poll from 0 answers at once with the whole stream.
  const stream = (await (await fetch(`${hub.url}/v1/poll?${q}&ack=0`)).json()) as ServerFrame[];
  return { welcome, sequenced: stream.filter((f) => 'seq' in f), lastId };
}

function send(path: Path, texts: string[]): Promise<Sent> {
  if (path === 'ws' || path === 'ws batch') return sendWs(texts, path === 'ws batch');
  return sendHttp(texts, path);
}

const seqs = (list: ServerFrame[]): number[] => list.map((f) => (f as { seq: number }).seq);
const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe.each(cores)('$name core', (core) => {
  const start = async (): Promise<void> => {
    hub = await core.start({ maxFrameBytes: MAX_FRAME_BYTES, ratePerSecond: Infinity });
    receiver = await joined(hub, ROOM);
  };

  it.each(PATHS)('%s: at the limit delivered; over it, or 5,000 deep, bad-frame with ref; ids consumed, no seq gap', async (path) => {
    await start();
    // Padding the first frame puts a batch over maxFrameBytes: its elements are then measured one by one.
    const pad = path.endsWith('batch') || path === 'POST /v1/poll' ? 'x'.repeat(8000) : 'small';
    const texts = frames(receiver.peer, pad);
    if (path.endsWith('batch') || path === 'POST /v1/poll') expect(`[${texts.join(',')}]`.length).toBeGreaterThan(MAX_FRAME_BYTES);
    const sent = await send(path, texts);

    expect(sent.welcome.limits.maxFrameDepth).toBe(MAX_FRAME_DEPTH);
    const errors = sent.sequenced.filter((f): f is ErrorFrame => f.type === 'error');
    expect(errors.map(({ code, ref, frame }) => ({ code, ref, frame }))).toEqual(REFUSED);
    for (const e of errors) expect(e.message).toContain(`${MAX_FRAME_DEPTH} levels`);
    expect(sent.lastId).toBe(8); // every id, refused or not, was consumed
    expect(seqs(sent.sequenced)).toEqual(upTo(sent.sequenced.length)); // joined, then the errors: no gap

    // The receiver got the two frames at the limit, numbered one after the other.
    await receiver.until(() => receiver.received.some((f) => f.type === 'broadcast'));
    const relayed = receiver.received.filter((f) => f.type === 'signal' || f.type === 'broadcast');
    expect(relayed.map((f) => f.type)).toEqual(['signal', 'broadcast']);
    const [signal, broadcast] = relayed as [ServerFrame & { seq: number; data: Json }, ServerFrame & { seq: number }];
    expect(JSON.stringify(signal.data)).toBe(dataOf(MAX_FRAME_DEPTH, JSON.stringify(pad)));
    expect(broadcast.seq).toBe(signal.seq + 1);
    expect(receiver.gaps).toEqual([]);
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
  });

  it('REST messages: data at the limit delivered; over it, or 5,000 deep, 400 bad-frame; no seq gap', async () => {
    await start();
    const message = (data: string): Promise<Response> =>
      fetch(`${hub.url}/v1/rooms/${ROOM}/messages`, { method: 'POST', body: `{"to":"${receiver.peer}","data":${data}}` });
    expect(await (await message(dataOf(MAX_FRAME_DEPTH, '"first"'))).json()).toEqual({ delivered: 1 });
    for (const data of [dataOf(MAX_FRAME_DEPTH + 1), nested(5000)]) {
      const res = await message(data);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ type: 'error', code: 'bad-frame' });
    }
    expect(await (await message('"last"')).json()).toEqual({ delivered: 1 });
    await receiver.next((f) => f.type === 'signal' && f.data === 'last');
    const signals = receiver.received.filter((f) => f.type === 'signal') as (ServerFrame & { seq: number })[];
    expect(signals).toHaveLength(2);
    expect(signals[1]!.seq).toBe(signals[0]!.seq + 1);
    expect(receiver.gaps).toEqual([]);
  });

  it('a frame that fails to encode for another reason gets internal with its ref: its id is consumed, no seq is', async () => {
    await start();
    const sender = await joined(hub, ROOM);
    try {
      await receiver.next((f) => f.type === 'peer-joined');
      const w = sender.welcome!;
      const session = await hub.hub.authenticate(w.session, w.key);
      // Not from the wire (JSON has no BigInt): a value JSON.stringify refuses at any depth.
      hub.hub.receive(session, { type: 'signal', id: 2, to: receiver.peer, data: 1n as unknown as Json });
      const err = await sender.next<ErrorFrame>((f) => f.type === 'error');
      expect(err).toMatchObject({ code: 'internal', ref: 2, frame: 'signal' });
      sender.send({ type: 'signal', to: receiver.peer, data: 'after' }); // the client's id 2: a retry, ignored
      sender.send({ type: 'signal', to: receiver.peer, data: 'after' }); // id 3
      await receiver.next((f) => f.type === 'signal' && f.data === 'after');
      sender.send({ type: 'ping' }); // id 4
      const pong = await sender.next<ServerFrame & { lastId: number }>((f) => f.type === 'pong');
      expect(pong.lastId).toBe(4);
      expect(receiver.received.filter((f) => f.type === 'signal')).toHaveLength(1);
      expect(receiver.gaps).toEqual([]);
      expect(sender.gaps).toEqual([]);
    } finally {
      await sender.close();
    }
  });
});
