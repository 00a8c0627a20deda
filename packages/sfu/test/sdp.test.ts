/** holdBackCandidates: the subscriber offer's trickle (engine.ts); rejectStoppedSections: a publisher's stopped track in werift's answer. */
import { describe, expect, it } from 'vitest';
import { holdBackCandidates, oneBundleTransport, rejectStoppedSections } from '../src/sdp.js';

const sdp = (...lines: string[]): string => [...lines, ''].join('\r\n');

describe('holdBackCandidates', () => {
  it.each([
    {
      name: 'candidates and end-of-candidates of a bundled section (libdatachannel)',
      offer: sdp('v=0', 'a=group:BUNDLE 0 1', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:0', 'a=candidate:1 1 UDP 2114977791 192.0.2.2 40663 typ host', 'a=candidate:2 1 UDP 2116026111 fd00::2 40663 typ host', 'a=end-of-candidates', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:1'),
      kept: sdp('v=0', 'a=group:BUNDLE 0 1', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:1'),
      held: [
        { candidate: 'candidate:1 1 UDP 2114977791 192.0.2.2 40663 typ host', sdpMid: '0' },
        { candidate: 'candidate:2 1 UDP 2116026111 fd00::2 40663 typ host', sdpMid: '0' },
      ],
    },
    {
      name: 'a candidate before its section\'s a=mid line takes that MID',
      offer: sdp('v=0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=candidate:1 1 udp 1 10.0.0.1 5000 typ host', 'a=mid:audio'),
      kept: sdp('v=0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:audio'),
      held: [{ candidate: 'candidate:1 1 udp 1 10.0.0.1 5000 typ host', sdpMid: 'audio' }],
    },
    {
      name: 'no candidates: the SDP unchanged',
      offer: sdp('v=0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:0'),
      kept: sdp('v=0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:0'),
      held: [],
    },
  ])('$name', ({ offer, kept, held }) => {
    expect(holdBackCandidates(offer)).toEqual({ sdp: kept, candidates: held });
  });

  it('a candidate in a section without a=mid is a bad-sdp error', () => {
    expect(() => holdBackCandidates(sdp('v=0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=candidate:1 1 udp 1 10.0.0.1 5000 typ host'))).toThrow(
      expect.objectContaining({ name: 'SfuError', code: 'bad-sdp' }),
    );
  });
});

describe('rejectStoppedSections', () => {
  it('puts a section the offer stopped (port 0) at port 0 in the answer and out of its BUNDLE group; other answers pass unchanged', () => {
    const offer = sdp('v=0', 'a=group:BUNDLE 0 1', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:0', 'm=video 0 UDP/TLS/RTP/SAVPF 96', 'a=mid:2');
    const answer = sdp('v=0', 'a=group:BUNDLE 0 2', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:0', 'a=recvonly', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:2', 'a=recvonly');
    expect(rejectStoppedSections(offer, answer)).toBe(sdp('v=0', 'a=group:BUNDLE 0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:0', 'a=recvonly', 'm=video 0 UDP/TLS/RTP/SAVPF 96', 'a=mid:2', 'a=recvonly'));
    const live = sdp('v=0', 'a=group:BUNDLE 0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:0');
    expect(rejectStoppedSections(live, answer)).toBe(answer);
  });
});

describe('oneBundleTransport', () => {
  const offer = [
    'v=0',
    'o=- 1 1 IN IP4 0.0.0.0',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1',
    'm=video 9 UDP/TLS/RTP/SAVPF 96',
    'a=mid:0',
    'a=ice-ufrag:aaaa',
    'a=ice-pwd:first-password-aaaaaaaaa',
    'a=candidate:1 1 UDP 1 10.0.0.1 1000 typ host',
    'a=end-of-candidates',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'a=mid:1',
    'a=ice-ufrag:bbbb',
    'a=ice-pwd:second-password-bbbbbbbb',
    'a=candidate:1 1 UDP 1 10.0.0.1 2000 typ host',
    'a=end-of-candidates',
    '',
  ].join('\r\n');

  it("puts every bundled section on the tagged (first) section's ICE transport, as aiortc's offers need", () => {
    const out = oneBundleTransport(offer);
    const [, video, audio] = out.split(/(?=^m=)/m);
    expect(video).toBe(offer.split(/(?=^m=)/m)[1]);
    expect(audio).toContain('a=ice-ufrag:aaaa\r\na=ice-pwd:first-password-aaaaaaaaa');
    expect(audio).not.toMatch(/bbbb|a=candidate|end-of-candidates/);
  });

  it('leaves an offer alone that has no BUNDLE group, one section, or no credentials in the tagged section', () => {
    const unbundled = offer.replace('a=group:BUNDLE 0 1\r\n', '');
    expect(oneBundleTransport(unbundled)).toBe(unbundled);
    const single = offer.replace('a=group:BUNDLE 0 1', 'a=group:BUNDLE 0');
    expect(oneBundleTransport(single)).toBe(single);
    const noCreds = offer.replace('a=ice-ufrag:aaaa\r\n', '');
    expect(oneBundleTransport(noCreds)).toBe(noCreds);
  });
});
