/**
 * Manual / QR rendezvous: two node-datachannel peers connect by exchanging only the two
 * compact strings; the strings' size and the QR code they need; the compact form rebuilds
 * an SDP with every field the remote needs; garbled strings are typed errors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import QRCode from 'qrcode';
import { ManualSignaler } from '../src/signaling/manual.js';
import { compactDescription, decodeManual, encodeManual, expandDescription, MANUAL_PREFIX, splitCandidates } from '../src/signaling/manual-sdp.js';
import { until } from '@pinhole/test-kit/wait';
import { base64url } from '../src/signaling/broker-wire.js';
import { echoOverDataChannel, meet, nodeRoom } from './support/rendezvous.js';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function qr(text: string): string {
  const sizes = (['L', 'M'] as const).map((level) => `${level}: version ${QRCode.create(text, { errorCorrectionLevel: level }).version}`);
  return `${text.length} chars, QR ${sizes.join(', ')}`;
}

/** A real libdatachannel offer/answer pair, made by two ManualSignalers and their rooms. */
async function exchange() {
  const offering = new ManualSignaler({ role: 'offer' });
  const answering = new ManualSignaler({ role: 'answer' });
  const ra = await nodeRoom(offering, 'manual');
  cleanup.push(() => ra.leave(), () => offering.close());
  const offer = await offering.local(10_000);
  await answering.remote(offer);
  const rb = await nodeRoom(answering, 'manual');
  cleanup.push(() => rb.leave(), () => answering.close());
  const answer = await answering.local(10_000);
  await offering.remote(answer);
  return { offering, answering, ra, rb, offer, answer };
}

const DTLS_FINGERPRINT = 'a=fingerprint:sha-256 ' + Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').toUpperCase()).join(':');

/** A browser-like data-channel offer with typical candidates: host (mDNS), srflx, relay. */
const TYPICAL_OFFER = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=candidate:1467250027 1 udp 2122260223 3f1c2d4e-8a7b-4c5d-9e0f-1a2b3c4d5e6f.local 54321 typ host generation 0 network-id 1',
  'a=candidate:842163049 1 udp 1686052607 198.51.100.23 54321 typ srflx raddr 0.0.0.0 rport 0 generation 0 network-id 1',
  'a=candidate:3745624537 1 udp 41885439 203.0.113.9 61234 typ relay raddr 198.51.100.23 rport 54321 generation 0 network-id 1',
  'a=ice-ufrag:Xq7Z',
  'a=ice-pwd:0n9bzrTd2DNVGTPvEZ1cGgsq',
  'a=ice-options:trickle',
  DTLS_FINGERPRINT,
  'a=setup:actpass',
  'a=mid:0',
  'a=sctp-port:5000',
  'a=max-message-size:262144',
  '',
].join('\r\n');

describe('manual / QR rendezvous', () => {
  it('two Node peers connect by exchanging only the offer and answer strings, and echo over a data channel', async () => {
    const { ra, rb, offer, answer } = await exchange();
    console.info(`manual offer (libdatachannel, ${offer.length} chars): ${offer}`);
    console.info(`manual answer (libdatachannel, ${answer.length} chars): ${answer}`);
    expect(offer.startsWith(`${MANUAL_PREFIX}c`)).toBe(true);
    const { pa, pb } = await meet(ra, rb);
    expect(await echoOverDataChannel(pa, pb)).toEqual({ echo: { hello: 'echo' } });
    expect(await pa.report()).toMatchObject({ state: 'connected', signaler: 'manual', transport: 'manual/manual' });
  });

  it('an answer pasted back after the connect timeout still connects: a one-shot signaler never rebuilds a first connection', async () => {
    const offering = new ManualSignaler({ role: 'offer' });
    const answering = new ManualSignaler({ role: 'answer' });
    expect([offering.oneShot, answering.oneShot]).toEqual([true, true]);
    const ra = await nodeRoom(offering, 'manual', {}, { connectTimeoutMs: 100 });
    cleanup.push(() => ra.leave(), () => offering.close());
    const restarts: unknown[] = [];
    ra.peers.get(answering.localId)!.connection!.on('restart', (r) => restarts.push(r));
    await answering.remote(await offering.local(10_000));
    const rb = await nodeRoom(answering, 'manual', {}, { connectTimeoutMs: 100 });
    cleanup.push(() => rb.leave(), () => answering.close());
    const answer = await answering.local(10_000);
    await new Promise((r) => setTimeout(r, 600)); // a person copying the answer back
    await offering.remote(answer);
    const { pa, pb } = await meet(ra, rb);
    expect(await echoOverDataChannel(pa, pb)).toEqual({ echo: { hello: 'echo' } });
    expect(restarts).toEqual([]);
  });

  it("the answering side applies the offer's candidates only candidateHoldMs after its answer is made (libdatachannel's early-answer race)", async () => {
    const offering = new ManualSignaler({ role: 'offer' });
    const answering = new ManualSignaler({ role: 'answer', candidateHoldMs: 300 });
    const ra = await nodeRoom(offering, 'manual');
    cleanup.push(() => ra.leave(), () => offering.close());
    const offer = await offering.local(10_000);
    const offered = splitCandidates((await decodeManual(offer)).sdp).candidates.length;
    expect(offered).toBeGreaterThan(0);
    const seen: { at: number; kind: string }[] = [];
    answering.on('signal', ({ data }) => {
      const d = data as { description?: { sdp: string }; candidate?: unknown };
      const kind = d.description ? (/a=candidate:/.test(d.description.sdp) ? 'offer with candidates' : 'offer') : d.candidate === null ? 'end' : 'candidate';
      seen.push({ at: Date.now(), kind });
    });
    await answering.remote(offer);
    const rb = await nodeRoom(answering, 'manual');
    cleanup.push(() => rb.leave(), () => answering.close());
    await answering.local(10_000);
    const answeredAt = Date.now();
    await until(() => seen.some((s) => s.kind === 'end'), 5000, 'the held candidates');
    expect(seen.map((s) => s.kind)).toEqual(['offer', ...Array<string>(offered).fill('candidate'), 'end']);
    expect(seen[1]!.at - answeredAt).toBeGreaterThanOrEqual(250);
    await offering.remote(await answering.local());
    const { pa, pb } = await meet(ra, rb);
    expect(await echoOverDataChannel(pa, pb)).toEqual({ echo: { hello: 'echo' } });
  });

  it.each([
    {
      name: 'bundled candidates and end-of-candidates (libdatachannel)',
      sdp: 'v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\na=candidate:1 1 UDP 2114977791 192.0.2.2 40663 typ host\r\na=end-of-candidates\r\n',
      kept: 'v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n',
      candidates: [{ candidate: 'candidate:1 1 UDP 2114977791 192.0.2.2 40663 typ host', sdpMid: '0', sdpMLineIndex: 0 }],
    },
    {
      name: 'a candidate of the second section, before its a=mid',
      sdp: 'v=0\nm=audio 9 UDP/TLS/RTP/SAVPF 111\na=mid:a\nm=video 9 UDP/TLS/RTP/SAVPF 96\na=candidate:2 1 udp 1 10.0.0.1 5000 typ host\na=mid:v\n',
      kept: 'v=0\nm=audio 9 UDP/TLS/RTP/SAVPF 111\na=mid:a\nm=video 9 UDP/TLS/RTP/SAVPF 96\na=mid:v\n',
      candidates: [{ candidate: 'candidate:2 1 udp 1 10.0.0.1 5000 typ host', sdpMid: 'v', sdpMLineIndex: 1 }],
    },
    { name: 'no candidates', sdp: 'v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n', kept: 'v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n', candidates: [] },
  ])('splitCandidates: $name', ({ sdp, kept, candidates }) => {
    expect(splitCandidates(sdp)).toEqual({ sdp: kept, candidates });
  });

  it('sizes: offer and answer strings and the QR code they need (figures in the README)', async () => {
    const { offer, answer } = await exchange();
    const typicalOffer = await encodeManual({ type: 'offer', sdp: TYPICAL_OFFER });
    const typicalAnswer = await encodeManual({
      type: 'answer',
      sdp: TYPICAL_OFFER.replace('a=setup:actpass', 'a=setup:active').replace('Xq7Z', 'Pp3k').replace(/a=candidate:3745.*\r\n/, ''),
    });
    const figures = {
      'libdatachannel offer (2 host)': qr(offer),
      'libdatachannel answer (2 host)': qr(answer),
      'typical offer (mDNS host, srflx, relay)': qr(typicalOffer),
      'typical answer (mDNS host, srflx)': qr(typicalAnswer),
      'raw SDP of that offer, for comparison': `${TYPICAL_OFFER.length} chars`,
    };
    console.info('manual string sizes', figures);
    // Every one fits a QR code of version 9 (53×53 modules) at error correction L and 11 at M.
    for (const text of [offer, answer, typicalOffer, typicalAnswer]) {
      expect(QRCode.create(text, { errorCorrectionLevel: 'L' }).version).toBeLessThanOrEqual(9);
      expect(QRCode.create(text, { errorCorrectionLevel: 'M' }).version).toBeLessThanOrEqual(11);
    }
  });

  it('the compact form keeps what the remote needs and rebuilds a valid SDP', async () => {
    const decoded = await decodeManual(await encodeManual({ type: 'offer', sdp: TYPICAL_OFFER }));
    expect(decoded.type).toBe('offer');
    const lines = decoded.sdp.split('\r\n');
    for (const line of ['a=ice-ufrag:Xq7Z', 'a=ice-pwd:0n9bzrTd2DNVGTPvEZ1cGgsq', DTLS_FINGERPRINT, 'a=setup:actpass', 'a=mid:0', 'a=sctp-port:5000', 'a=max-message-size:262144', 'a=end-of-candidates']) {
      expect(lines).toContain(line);
    }
    expect(lines.filter((l) => l.startsWith('a=candidate:'))).toEqual([
      expect.stringMatching(/ udp \d+ 3f1c2d4e-8a7b-4c5d-9e0f-1a2b3c4d5e6f\.local 54321 typ host$/),
      expect.stringMatching(/ udp \d+ 198\.51\.100\.23 54321 typ srflx$/),
      expect.stringMatching(/ udp \d+ 203\.0\.113\.9 61234 typ relay$/),
    ]);
    // Rebuilt priorities keep the order and the type preferences (RFC 8445 §5.1.2).
    const priorities = lines.filter((l) => l.startsWith('a=candidate:')).map((l) => Number(l.split(' ')[3]));
    expect([...priorities].sort((a, b) => b - a)).toEqual(priorities);
    // Trickled candidates are merged in, duplicates dropped, TCP keeps its tcptype.
    const merged = compactDescription({ type: 'offer', sdp: TYPICAL_OFFER }, [
      'candidate:9 1 tcp 1518280447 192.0.2.7 9 typ host tcptype active',
      'a=candidate:842163049 1 udp 1686052607 198.51.100.23 54321 typ srflx raddr 0.0.0.0 rport 0',
    ]);
    expect(merged?.candidates.map((c) => `${c.type} ${c.transport} ${c.address}`)).toEqual([
      'host udp 3f1c2d4e-8a7b-4c5d-9e0f-1a2b3c4d5e6f.local',
      'srflx udp 198.51.100.23',
      'relay udp 203.0.113.9',
      'host tcp-active 192.0.2.7',
    ]);
    expect(expandDescription(merged!).sdp).toMatch(/ tcp \d+ 192\.0\.2\.7 9 typ host tcptype active\r\n/);
  });

  it('an SDP with media travels whole (the "s" form) and comes back unchanged, candidates merged', async () => {
    const media = TYPICAL_OFFER.replace('a=group:BUNDLE 0', 'a=group:BUNDLE 0 1') + 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=rtpmap:111 opus/48000/2\r\n';
    const text = await encodeManual({ type: 'offer', sdp: media }, ['candidate:7 1 udp 2122260222 192.0.2.8 40000 typ host']);
    expect(text.startsWith(`${MANUAL_PREFIX}s`)).toBe(true);
    const back = await decodeManual(text);
    expect(back.sdp).toContain('m=audio 9 UDP/TLS/RTP/SAVPF 111');
    expect(back.sdp).toContain('a=candidate:7 1 udp 2122260222 192.0.2.8 40000 typ host');
    expect(back.sdp.replace('a=candidate:7 1 udp 2122260222 192.0.2.8 40000 typ host\r\n', '')).toBe(media);
  });

  const deflate = async (text: string): Promise<string> => {
    const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('deflate-raw'));
    return base64url(new Uint8Array(await new Response(stream).arrayBuffer()));
  };

  it.each([
    ['empty', async () => '', /expected the prefix PH1/],
    ['another prefix', async () => 'XYZcabc', /expected the prefix PH1/],
    ['an unknown format letter', async () => 'PH1qAAAA', /unknown manual string format "q"/],
    ['not base64url', async () => 'PH1c!!!!', /not base64url/],
    ['truncated', async () => (await encodeManual({ type: 'offer', sdp: TYPICAL_OFFER })).slice(0, 60), /does not inflate/],
    ['not deflate data', async () => `PH1c${base64url(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]))}`, /does not inflate/],
    ['a deflate bomb', async () => `PH1c${await deflate('o '.repeat(100_000))}`, /more than 65536 bytes/],
    ['a bad type', async () => `PH1c${await deflate('x p abc def AAAA 0 5000 262144')}`, /unknown description type "x"/],
    ['a short fingerprint', async () => `PH1c${await deflate('o p abcd efghijklmnopqrstuvwxyz AAAA 0 5000 262144')}`, /not 32 bytes/],
    ['a bad candidate', async () => `PH1c${await deflate(`o p abcd efghijklmnopqrstuvwxyz ${base64url(new Uint8Array(32))} 0 5000 262144 hu99999,1.2.3.4`)}`, /bad candidate "hu99999,1.2.3.4"/],
    ['an SDP form that is not an SDP', async () => `PH1s${await deflate('{"type":"offer","sdp":"hello"}')}`, /not \{type, sdp\}/],
  ])('a garbled string (%s) is rejected with bad-manual-string', async (_name, make, message) => {
    const err = await decodeManual(await make()).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'SignalingError', code: 'bad-manual-string' });
    expect((err as Error).message).toMatch(message);
  });

  it('the wrong string for the role is refused, and a garbled paste can be retried', async () => {
    const offering = new ManualSignaler({ role: 'offer' });
    const ra = await nodeRoom(offering, 'roles');
    cleanup.push(() => ra.leave());
    const offer = await offering.local(10_000);
    await expect(offering.remote(offer)).rejects.toMatchObject({ code: 'bad-manual-string', message: expect.stringMatching(/needs an answer/) });
    const answering = new ManualSignaler({ role: 'answer' });
    await expect(answering.remote(offer.slice(0, 40))).rejects.toMatchObject({ code: 'bad-manual-string' });
    await answering.remote(`${offer.slice(0, 30)}\n${offer.slice(30)}`); // line breaks from a paste are ignored
    const rb = await nodeRoom(answering, 'roles');
    cleanup.push(() => rb.leave());
    await offering.remote(await answering.local(10_000));
    const { pa, pb } = await meet(ra, rb);
    expect(await echoOverDataChannel(pa, pb)).toEqual({ echo: { hello: 'echo' } });
  });
});
