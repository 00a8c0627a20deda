/**
 * The browser build of the SDK in real Chromium against a real hub, with a Node peer
 * (node-datachannel) on the other end: the transport ladder falls back when WebSocket
 * upgrades are refused; a file from Node streams into a Blob in the page with a matching
 * SHA-256; the browser's ICE restart works against a peer that cannot restart ICE in place.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '@pinhole/server';
import { connect, type Session } from '@pinhole/node';
import { openHarness, type Harness } from '@pinhole/test-kit/browser';
import { startTestHub } from '@pinhole/test-kit/hub';

let harness: Harness;
let hub: RunningHub;
const cleanup: (() => Promise<unknown> | unknown)[] = [];

beforeAll(async () => {
  harness = await openHarness(new URL('./hub-entry.ts', import.meta.url));
}, 60_000);
afterAll(async () => {
  await harness?.close();
});
afterEach(async () => {
  await harness.page.evaluate('pinhole.close()');
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function hubWith(options: Parameters<typeof startTestHub>[0] = {}): Promise<RunningHub> {
  hub = await startTestHub(options);
  cleanup.push(() => hub.close());
  return hub;
}

async function nodePeer(url: string): Promise<Session> {
  const s = await connect(url, { reconnect: false });
  cleanup.push(() => s.close());
  return s;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON returned by the page
const page = (call: string): Promise<any> => harness.page.evaluate(`pinhole.${call}`);

describe('the browser SDK against a real hub', () => {
  it('falls to SSE when WebSocket upgrades are refused, and to long-poll when only ws/poll are allowed', async () => {
    const h = await hubWith({ refuseWebSocket: true });
    expect(await page(`open(${JSON.stringify(h.url)})`)).toMatchObject({ transport: 'sse' });
    await page('close()');
    expect(await page(`open(${JSON.stringify(h.url)}, ['ws', 'poll'])`)).toMatchObject({ transport: 'poll' });
  }, 30_000);

  it('long-poll from another origin: replies ride on the next poll (a POST that CORS allows), lastId is readable', async () => {
    const h = await hubWith({ refuseWebSocket: true, pollHoldMs: 1000 });
    const browser = await page(`open(${JSON.stringify(h.url)}, ['ws', 'poll'])`);
    expect(browser.transport).toBe('poll');
    // Hub messages only (connect: false on both sides). A peer connection's offer and
    // candidates are written outside any poll answer and go by POST /v1/send, and a reply
    // written while such a POST is under way follows it there (a session's frames go one
    // request at a time, in order): under two busy loops the negotiation overlapped the
    // whole exchange and no reply rode a poll.
    await page(`join('hub-echo', { connect: false })`);
    await page('echoHubMessages()');
    const node = await nodePeer(h.url);
    const room = await node.join('hub-echo', {}, { connect: false });
    const got: unknown[] = [];
    room.on('message', ({ data }) => got.push(data));
    const N = 30;
    for (let n = 0; n < N; n++) {
      room.send(browser.peerId, n);
      if (n % 5 === 0) await new Promise((r) => setTimeout(r, 10));
    }
    await expect.poll(() => got.length, { timeout: 15_000 }).toBe(N);
    expect(got).toEqual(Array.from({ length: N }, (_, n) => ({ echo: n })));
    type Request = { method: string; path: string; frames: string[]; status: number; lastId: string | null };
    // Every reply rode a poll (POST /v1/poll, a request CORS lets through; the page logs it
    // once answered, the last one within its hold): only the hello and the join went by
    // POST /v1/send.
    const carried = async (): Promise<string[]> =>
      ((await page('requests()')) as Request[]).filter((r) => r.method === 'POST' && r.path === '/v1/poll' && r.status === 200).flatMap((r) => r.frames);
    await expect.poll(carried, { timeout: 15_000 }).toEqual(Array(N).fill('signal'));
    const requests: Request[] = await page('requests()');
    expect(requests.filter((r) => r.path === '/v1/send').flatMap((r) => r.frames)).toEqual(['hello', 'join']);
    const polls = requests.filter((r) => r.path === '/v1/poll' && r.status === 200);
    expect(polls.every((r) => r.lastId !== null && Number.isInteger(Number(r.lastId)))).toBe(true);
  }, 30_000);

  it('a Node peer sends a 3 MB file that streams into a Blob in the page; echo over a named channel', async () => {
    const h = await hubWith();
    const browser = await page(`open(${JSON.stringify(h.url)})`);
    expect(browser.transport).toBe('ws');
    await page(`join('mixed')`);
    const node = await nodePeer(h.url);
    const room = await node.join('mixed', { name: 'node' });
    const peer = room.peers.get(browser.peerId)!;
    expect(peer.meta).toEqual({ name: 'chromium' });

    const replies: string[] = [];
    peer.channel('echo').on('message', (m) => replies.push(String(m.data)));
    peer.channel('echo').send('hello from node');
    await expect.poll(() => replies, { timeout: 15_000 }).toEqual(['echo: hello from node']);

    const bytes = randomBytes(3 * 1024 * 1024);
    const sent = await peer.sendFile(new Blob([bytes]), { name: 'three.bin' }).finished();
    const got = await page('received()');
    const digest = createHash('sha256').update(bytes).digest('hex');
    expect(sent.sha256).toBe(digest);
    expect(got).toMatchObject({ name: 'three.bin', size: bytes.length, sha256: digest, announced: digest, lastProgress: bytes.length });
    expect(got.progressEvents).toBeGreaterThan(1);

    const report = await page(`report(${JSON.stringify(node.peerId)})`);
    expect(report).toMatchObject({ state: 'connected', candidateType: { local: 'host', remote: 'host' }, protocol: 'udp', transport: 'hub/ws' });
  }, 60_000);

  it("the browser's ICE restart against a node-datachannel peer (no restartIce there) ends connected and the channel works", async () => {
    const h = await hubWith();
    const browser = await page(`open(${JSON.stringify(h.url)})`);
    await page(`join('restart')`);
    const node = await nodePeer(h.url);
    const room = await node.join('restart');
    const peer = room.peers.get(browser.peerId)!;
    const replies: string[] = [];
    peer.channel('echo').on('message', (m) => replies.push(String(m.data)));
    peer.channel('echo').send('before');
    await expect.poll(() => replies, { timeout: 15_000 }).toEqual(['echo: before']);

    const { restarts } = await page(`restartIce(${JSON.stringify(node.peerId)})`);
    console.info('browser restart vs node-datachannel', restarts);
    expect(restarts[0]).toMatchObject({ reason: 'network-change' });
    peer.channel('echo').send('after');
    await expect.poll(() => replies, { timeout: 15_000 }).toEqual(['echo: before', 'echo: after']);
    expect(await page('echoes()')).toEqual(['before', 'after']);
  }, 60_000);
});
