/**
 * The "no server" page's code checks without a browser: every way a pasted code can be
 * wrong gets its own plain-words problem, and the STUN field takes only STUN URLs.
 */
import { encodeManual } from '@pinhole/client';
import { describe, expect, it } from 'vitest';
import { CodeProblem, hasMedia, parseStunServer, readCode } from '../src/direct-codes.js';

const FINGERPRINT = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').toUpperCase()).join(':');
const sdp = (setup: string, media = ''): string =>
  [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    'c=IN IP4 0.0.0.0',
    'a=candidate:1 1 udp 2122260223 192.0.2.7 54321 typ host',
    'a=ice-ufrag:Xq7Z',
    'a=ice-pwd:0n9bzrTd2DNVGTPvEZ1cGgsq',
    `a=fingerprint:sha-256 ${FINGERPRINT}`,
    `a=setup:${setup}`,
    'a=mid:0',
    'a=sctp-port:5000',
    '',
  ].join('\r\n') + media;

const offer = await encodeManual({ type: 'offer', sdp: sdp('actpass') });
const answer = await encodeManual({ type: 'answer', sdp: sdp('active') });

describe('readCode', () => {
  it('takes an invitation and an answer, line breaks from a paste included', async () => {
    expect((await readCode(offer, 'invitation')).type).toBe('offer');
    expect((await readCode(`${answer.slice(0, 50)}\n  ${answer.slice(50)}\n`, 'answer')).type).toBe('answer');
  });

  it.each([
    ['empty', '  \n', 'answer', 'empty', /^Paste the answer the other person’s page shows/],
    ['a URL', 'https://example.org/r/room', 'invitation', 'not-a-code', /not a Pinhole code: codes start with “PH1”/],
    ['cut off', offer.slice(0, 40), 'invitation', 'damaged', /incomplete or was changed on the way/],
    ['a typo', `${offer.slice(0, 10)}!${offer.slice(11)}`, 'invitation', 'damaged', /incomplete or was changed on the way/],
    ['the invitation where the answer goes', offer, 'answer', 'wrong-kind', /This is an invitation, not an answer/],
    ['an answer where the invitation goes', answer, 'invitation', 'wrong-kind', /This is an answer, not an invitation/],
  ] as const)('%s: a CodeProblem in plain words', async (_name, text, expected, reason, message) => {
    const err = await readCode(text, expected).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CodeProblem);
    expect(err).toMatchObject({ reason, message: expect.stringMatching(message) });
  });
});

describe('hasMedia', () => {
  it('is true only when the description has an audio or video section', async () => {
    expect(hasMedia(await readCode(offer, 'invitation'))).toBe(false);
    const withVideo = await encodeManual({ type: 'offer', sdp: sdp('actpass', 'm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n') });
    expect(hasMedia(await readCode(withVideo, 'invitation'))).toBe(true);
  });
});

describe('parseStunServer', () => {
  it.each([
    ['', undefined],
    ['  ', undefined],
    ['stun:stun.example.org', { urls: 'stun:stun.example.org' }],
    [' stun:stun.l.google.com:19302 ', { urls: 'stun:stun.l.google.com:19302' }],
    ['stuns:192.0.2.1:5349', { urls: 'stuns:192.0.2.1:5349' }],
    ['stun:[2001:db8::1]:3478', { urls: 'stun:[2001:db8::1]:3478' }],
  ])('%j → %j', (input, expected) => {
    expect(parseStunServer(input)).toEqual(expected);
  });

  it.each(['https://stun.example.org', 'turn:turn.example.org', 'stun:', 'stun:host:port', 'stun:a b'])('%j is refused in plain words', (input) => {
    expect(() => parseStunServer(input)).toThrow(expect.objectContaining({ reason: 'bad-stun', message: expect.stringMatching(/is not a STUN server address\. Write it as stun:host/) }));
  });
});
