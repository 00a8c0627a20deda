/** RFC 8840 fragments as WHIP clients PATCH them, and RFC 9725 §4.6 Link headers. */
import { describe, expect, it } from 'vitest';
import { iceServerLinks, parseSdpFrag } from '../src/index.js';

describe('parseSdpFrag', () => {
  it('reads credentials, candidates with their media section, and end-of-candidates (RFC 8840 §9 example shape)', () => {
    const frag = parseSdpFrag(
      [
        'a=ice-ufrag:EsAw',
        'a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1',
        'm=audio 9 UDP/TLS/RTP/SAVPF 111',
        'a=mid:0',
        'a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw network-id 1',
        'a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host generation 0 ufrag EsAw network-id 2',
        'm=video 9 UDP/TLS/RTP/SAVPF 96',
        'a=mid:1',
        'a=candidate:473322822 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active',
        'a=end-of-candidates',
        '',
      ].join('\r\n'),
    );
    expect(frag.ufrag).toBe('EsAw');
    expect(frag.pwd).toBe('P2uYro0UCOQ4zxjKXaWCBui1');
    expect(frag.endOfCandidates).toBe(true);
    expect(frag.candidates.map((c) => [c.sdpMid, c.candidate.split(' ')[4]])).toEqual([
      ['0', '192.0.2.1'],
      ['0', '198.51.100.2'],
      ['1', '192.0.2.1'],
    ]);
    expect(frag.candidates[0]!.candidate).toMatch(/^candidate:1387637174 1 udp/);
  });

  it('takes LF line ends, a fragment of credentials only (an ICE restart), and an empty body', () => {
    expect(parseSdpFrag('a=ice-ufrag:abcd\na=ice-pwd:efgh\n')).toMatchObject({ ufrag: 'abcd', pwd: 'efgh', candidates: [] });
    expect(parseSdpFrag('')).toEqual({ ufrag: undefined, pwd: undefined, candidates: [], endOfCandidates: false });
  });

  it('refuses what is not a fragment: text, a truncated candidate, a flood of lines', () => {
    expect(() => parseSdpFrag('hello')).toThrow(/not an SDP line/);
    expect(() => parseSdpFrag('a=candidate:1 1 udp 5 1.2.3.4')).toThrow(/malformed candidate/);
    expect(() => parseSdpFrag('a=x\r\n'.repeat(1001))).toThrow(/more than 1000 lines/);
    const thrown = ((): unknown => {
      try {
        return parseSdpFrag('hello');
      } catch (err) {
        return err;
      }
    })();
    expect(thrown).toMatchObject({ name: 'GatewayError', status: 400, code: 'bad-sdpfrag' });
  });
});

describe('iceServerLinks', () => {
  it('one Link per URL; TURN credentials quoted as parameters; STUN without', () => {
    expect(
      iceServerLinks([
        { urls: 'stun:stun.example.net' },
        { urls: ['turn:turn.example.net?transport=udp', 'turns:turn.example.net:443?transport=tcp'], username: '1700000000:obs', credential: 'a"b\\c' },
      ]),
    ).toEqual([
      '<stun:stun.example.net>; rel="ice-server"',
      '<turn:turn.example.net?transport=udp>; rel="ice-server"; username="1700000000:obs"; credential="a\\"b\\\\c"; credential-type="password"',
      '<turns:turn.example.net:443?transport=tcp>; rel="ice-server"; username="1700000000:obs"; credential="a\\"b\\\\c"; credential-type="password"',
    ]);
  });
});
