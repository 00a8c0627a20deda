/**
 * The first remote offer is applied as if its sender had taken the DTLS client role, so the
 * answerer (ready first) is the DTLS server: see asDtlsServer in src/peer/negotiation.ts.
 * Between two real node-datachannel peers the answer then says `passive` and the offerer
 * becomes the client.
 */
import { describe, expect, it } from 'vitest';
import { RTCPeerConnection as NodeRTCPeerConnection } from 'node-datachannel/polyfill';
import { asDtlsServer } from '../src/peer/negotiation.js';

describe('asDtlsServer', () => {
  it('turns a=setup:actpass into active and touches nothing else', () => {
    const sdp = 'v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=setup:actpass\r\na=x-note:setup:actpass\r\n';
    expect(asDtlsServer({ type: 'offer', sdp })).toEqual({ type: 'offer', sdp: sdp.replace('a=setup:actpass\r\n', 'a=setup:active\r\n') });
    expect(asDtlsServer({ type: 'offer', sdp: 'v=0\na=setup:actpass\n' }).sdp).toBe('v=0\na=setup:active\n');
    expect(asDtlsServer({ type: 'offer', sdp: 'v=0\r\na=setup:active\r\n' }).sdp).toBe('v=0\r\na=setup:active\r\n');
    expect(asDtlsServer({ type: 'offer' })).toEqual({ type: 'offer' });
  });

  it('makes a node-datachannel answerer answer passive, and the pair still connects', async () => {
    // Typed as the W3C interface, as the SDK uses it.
    const make = () => new NodeRTCPeerConnection({ iceServers: [] }) as unknown as RTCPeerConnection;
    const [a, b] = [make(), make()];
    try {
      a.onicecandidate = (e) => void (e.candidate && b.addIceCandidate(e.candidate));
      b.onicecandidate = (e) => void (e.candidate && a.addIceCandidate(e.candidate));
      const opened = new Promise<void>((resolve) => (b.ondatachannel = (e) => (e.channel.onopen = () => resolve())));
      a.createDataChannel('x');
      await a.setLocalDescription();
      expect(a.localDescription!.sdp).toMatch(/^a=setup:actpass\r?$/m);
      await b.setRemoteDescription(asDtlsServer(a.localDescription!.toJSON()));
      await b.setLocalDescription();
      expect(b.localDescription!.sdp).toMatch(/^a=setup:passive\r?$/m);
      await a.setRemoteDescription(b.localDescription!);
      await opened;
    } finally {
      a.close();
      b.close();
    }
  });
});
