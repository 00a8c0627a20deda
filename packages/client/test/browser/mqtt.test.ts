/**
 * MQTT rendezvous from a browser: real Chromium runs the SDK with mqtt.js's browser build
 * over MQTT-over-WebSocket to a real Mosquitto, a Node peer (node-datachannel) uses the
 * same broker over TCP. They see each other arrive and leave, connect, and echo over data
 * channels both ways — also with the sealed signaler on top, where a raw MQTT client
 * subscribed to every topic sees no SDP and no candidate.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect as mqttConnect } from 'mqtt';
import { connectMqtt } from '@pinhole/node';
import { SealedSignaler } from '../../src/signaling/sealed.js';
import type { Signaler } from '../../src/signaling/signaler.js';
import { openHarness, type Harness } from '@pinhole/test-kit/browser';
import { Mosquitto } from '@pinhole/test-kit/mosquitto';
import { until } from '@pinhole/test-kit/wait';
import { nodeRoom } from '../support/rendezvous.js';

let harness: Harness;
let broker: Mosquitto;
const cleanup: (() => Promise<unknown> | unknown)[] = [];

beforeAll(async () => {
  broker = await Mosquitto.start();
  harness = await openHarness(new URL('./mqtt-entry.ts', import.meta.url));
}, 60_000);
afterAll(async () => {
  await harness?.close();
  await broker?.stop();
});
afterEach(async () => {
  await harness.page.evaluate('pinhole.leave()');
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON returned by the page
const page = (call: string): Promise<any> => harness.page.evaluate(`pinhole.${call}`);
const arg = (value: unknown): string => JSON.stringify(value);

async function nodeSignaler(passphrase?: string): Promise<Signaler> {
  const mqtt = await connectMqtt(broker.url);
  const s = passphrase ? new SealedSignaler(mqtt, { passphrase }) : mqtt;
  cleanup.push(() => s.close());
  return s;
}

/**
 * The browser joins first, the Node peer second; each sees the other (Node in its join
 * result, the browser by peer-joined). A channel opened from each side echoes. The Node peer
 * leaves and comes back, then the browser leaves: each departure is seen by the other side.
 * Returns the browser's view of its signaler.
 */
async function scenario(roomName: string, passphrase?: string): Promise<{ transport: string; report: { transport: string; state: string } }> {
  const browser = await page(`join(${arg(broker.wsUrl)}, ${arg(roomName)}${passphrase ? `, ${arg(passphrase)}` : ''})`);
  expect(browser.peers).toEqual([]);
  const signaler = await nodeSignaler(passphrase);
  let node = await nodeRoom(signaler, roomName, { name: 'node' });
  cleanup.push(() => node.leave());

  expect([...node.peers.keys()]).toEqual([browser.peerId]);
  expect(node.peers.get(browser.peerId)!.meta).toEqual({ name: 'chromium' });
  await expect.poll(() => page('events()'), { timeout: 10_000 }).toEqual([`joined ${signaler.localId} {"name":"node"}`]);

  // Node → browser: the page answers 'echo: …' on any channel Node opens.
  const peer = node.peers.get(browser.peerId)!;
  const replies: string[] = [];
  peer.channel('echo').on('message', (m) => replies.push(String(m.data)));
  peer.channel('echo').send('hello from node');
  await until(() => replies.length > 0, 20_000, 'the browser echo');
  expect(replies).toEqual(['echo: hello from node']);
  // Browser → Node: Node answers on the channel the page opens.
  peer.on('channel', (ch) => ch.on('message', (m) => ch.send(`node echo: ${String(m.data)}`)));
  expect(await page(`ask(${arg(signaler.localId)}, 'hello from chromium')`)).toBe('node echo: hello from chromium');
  const report = await page(`report(${arg(signaler.localId)})`);

  // Node leaves (the browser sees it), comes back (the browser sees that too) …
  await node.leave();
  await expect.poll(() => page('events()'), { timeout: 10_000 }).toContain(`left ${signaler.localId} leave`);
  node = await nodeRoom(signaler, roomName, { name: 'node again' });
  await expect.poll(() => page('events()'), { timeout: 10_000 }).toContain(`joined ${signaler.localId} {"name":"node again"}`);
  expect([...node.peers.keys()]).toEqual([browser.peerId]);
  // … and the browser leaves: Node sees it.
  const left = node.next('peer-left', 10_000);
  await page('leave()');
  const gone = await left;
  expect({ peer: gone.peer.id, reason: gone.reason }).toEqual({ peer: browser.peerId, reason: 'leave' });
  expect(await page('errors()')).toEqual([]);
  return { transport: browser.transport, report };
}

describe('MQTT over WebSocket from Chromium, with a Node peer over TCP to the same broker', () => {
  it('presence both ways, a peer connection, and data-channel echoes both ways', async () => {
    const { transport, report } = await scenario('browser mqtt/#1');
    expect(transport).toBe('ws');
    expect(report).toMatchObject({ state: 'connected', signaler: 'mqtt', transport: 'mqtt/ws' });
  }, 60_000);

  it('sealed with a room passphrase: the same, and the broker carries no SDP and no candidate', async () => {
    const seen: string[] = [];
    const raw = mqttConnect(broker.url, { protocolVersion: 5 });
    cleanup.push(() => raw.endAsync());
    raw.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    await raw.subscribeAsync('pinhole/v1/#', { qos: 1 });

    const { transport, report } = await scenario('browser sealed', 'correct horse battery staple');
    expect(transport).toBe('ws+sealed');
    expect(report).toMatchObject({ state: 'connected', signaler: 'mqtt', transport: 'mqtt/ws+sealed' });

    const signals = seen.filter((m) => m.startsWith('pinhole/v1/room/browser%20sealed/signal/') && m.includes('"data"'));
    // Both sides' offers/answers and candidates went through the broker, all of them sealed.
    expect(signals.length).toBeGreaterThan(2);
    for (const m of signals) expect(m).toMatch(/"data":\{"sealed":1,"iv":"[\w-]+","ct":"[\w-]+"\}/);
    for (const m of seen) {
      expect(m).not.toContain('v=0');
      expect(m).not.toContain('candidate');
      expect(m).not.toContain('chromium'); // the metas are sealed too
    }
  }, 60_000);
});
