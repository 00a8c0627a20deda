/**
 * Why a Chromium client that only has TURN relays (UDP blocked, proxy-only) cannot reach a
 * node-datachannel peer such as `pinhole agent`, pinned down on loopback with our TURN server:
 *
 * - Chromium 156, relay-only, sends the connectivity checks of its TURN allocations with an
 *   ICE-CONTROLLING / ICE-CONTROLLED tiebreaker of 0 (seen over TURN/UDP too, by hand);
 *   checks from its host ports carry a random one. 0 is a legal tiebreaker (RFC 8445 §16.1).
 * - libjuice (node-datachannel 0.33) compares the two attributes' values to find which one
 *   is present, takes a 0 for "absent", logs "Controlling and controlled attributes mismatch
 *   in request" and answers 400 Bad Request; Chromium kills the candidate pair on a 400
 *   ("Received STUN error response, code=400; killing connection"). Reported upstream as
 *   libjuice issue #355 (fix proposed in PR #356).
 *
 * The browser's checks are seen twice: by a plain UDP socket added to the answer as an
 * extra host candidate (it reads the raw attribute), and by libjuice's own log.
 * When this test fails, node-datachannel has the fix: netns-tcp-only.test.ts can then use
 * `pinhole agent` as the far peer, and docs/deployment.md's UDP-blocked recipe changes.
 */
import { createSocket, type Socket } from 'node:dgram';
import { initLogger } from 'node-datachannel';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TurnServer } from '@pinhole/turn';
import { creds, startTestServer } from '@pinhole/test-kit/turn-server';
import { eventually } from '@pinhole/test-kit/wait';
import { libdatachannelIceServer } from '@pinhole/test-kit/webrtc';
import { launchChromium } from '@pinhole/test-kit/browser';

const ICE_CONTROLLING = 0x802a;
const ICE_CONTROLLED = 0x8029;
const MISMATCH = 'Controlling and controlled attributes mismatch in request';

/** The ICE role attributes (type → tiebreaker as hex) of a STUN message. */
function roleAttributes(m: Buffer): Map<number, string> {
  const found = new Map<number, string>();
  for (let i = 20; i + 4 <= m.length; ) {
    const type = m.readUInt16BE(i);
    const length = m.readUInt16BE(i + 2);
    if (type === ICE_CONTROLLING || type === ICE_CONTROLLED) found.set(type, m.subarray(i + 4, i + 4 + length).toString('hex'));
    i += 4 + Math.ceil(length / 4) * 4;
  }
  return found;
}

/** Offer of a relay-only Chromium peer through `url`, after gathering (no trickle). */
const OFFER = `async ({ url, username, credential }) => {
  const pc = new RTCPeerConnection({ iceTransportPolicy: 'relay', iceServers: [{ urls: url, username, credential }] });
  window.pc = pc;
  pc.createDataChannel('probe');
  await pc.setLocalDescription();
  await new Promise((resolve) => {
    const done = () => pc.iceGatheringState === 'complete' && resolve();
    pc.onicegatheringstatechange = done;
    done();
  });
  return pc.localDescription.sdp;
}`;

describe('Chromium TURN relay ↔ node-datachannel (libjuice): a known interop failure', () => {
  let server: TurnServer;
  let browser: Browser;
  const libjuiceWarnings: string[] = [];
  beforeAll(async () => {
    initLogger('Warning', (_level, message) => libjuiceWarnings.push(message));
    server = await startTestServer();
    browser = await launchChromium(['--ignore-certificate-errors']); // the test server's TURN/TLS certificate
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it.each(['tcp', 'tls'] as const)('TURN over %s: Chromium checks with tiebreaker 0, libjuice answers them 400', async (transport) => {
    const url = {
      tcp: `turn:127.0.0.1:${server.ports.tcp}?transport=tcp`,
      tls: `turns:localhost:${server.ports.tls}?transport=tcp`,
    }[transport];
    const page = await browser.newPage();
    const observer: Socket = createSocket('udp4');
    const node = new RTCPeerConnection({
      iceServers: [libdatachannelIceServer(`turn:127.0.0.1:${server.ports.udp}?transport=udp`, creds('node').username, creds('node').password)],
    } as unknown as ConstructorParameters<typeof RTCPeerConnection>[0]);
    try {
      const seen: Map<number, string>[] = [];
      observer.on('message', (m) => seen.push(roleAttributes(m)));
      await new Promise<void>((resolve) => observer.bind(0, '127.0.0.1', resolve));
      const c = creds('chromium');
      const offer = await page.evaluate<string>(`(${OFFER})(${JSON.stringify({ url, username: c.username, credential: c.password })})`);
      expect(offer).toMatch(/ typ relay /);
      await node.setRemoteDescription({ type: 'offer', sdp: offer });
      await node.setLocalDescription(await node.createAnswer());
      await eventually(() => node.iceGatheringState === 'complete', 10_000);
      const extra = `a=candidate:9 1 UDP 2130706431 127.0.0.1 ${observer.address().port} typ host\r\n`;
      const answer = node.localDescription!.sdp.replace('a=end-of-candidates', `${extra}a=end-of-candidates`);
      const before = libjuiceWarnings.filter((w) => w.includes(MISMATCH)).length;
      await page.evaluate(`pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(answer)} })`);
      await eventually(() => seen.length > 0 && libjuiceWarnings.filter((w) => w.includes(MISMATCH)).length > before, 15_000);
      // The offerer controls: every check from Chromium's relay carries ICE-CONTROLLING = 0.
      for (const attributes of seen) expect(Object.fromEntries(attributes)).toEqual({ [ICE_CONTROLLING]: '0000000000000000' });
    } finally {
      node.close();
      observer.close();
      await page.close();
    }
  }, 30_000);
});
