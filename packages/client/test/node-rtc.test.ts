/**
 * NodeRTCPeerConnection (src/node.ts): node-datachannel driven the W3C way, with
 * libdatachannel's automatic negotiation off. The polite side of a pair must not make an
 * offer of its own when its first data channel is created: that offer used to start its ICE
 * agent as controlling, so both agents nominated (STUN 487 role conflicts) and the offerer's
 * DTLS could start before the answer reached it and fail ("unknown CA").
 */
import { describe, expect, it } from 'vitest';
import { NodeRTCPeerConnection } from '@pinhole/node';

const opened = (dc: RTCDataChannel) => new Promise<void>((resolve) => (dc.readyState === 'open' ? resolve() : (dc.onopen = () => resolve())));

describe('NodeRTCPeerConnection', () => {
  it('makes no description until setLocalDescription asks: a channel alone leaves it stable and not gathering', () => {
    const pc = new NodeRTCPeerConnection({ iceServers: [] });
    try {
      pc.createDataChannel('x');
      expect(pc.signalingState).toBe('stable');
      expect(pc.iceGatheringState).toBe('new');
      expect(pc.localDescription?.sdp ?? '').toBe('');
    } finally {
      pc.close();
    }
  });

  it('setLocalDescription() offers when stable and answers in have-remote-offer, and the pair opens its channels', async () => {
    const [a, b] = [new NodeRTCPeerConnection({ iceServers: [] }), new NodeRTCPeerConnection({ iceServers: [] })];
    try {
      const remote = new Promise<RTCDataChannel>((resolve) => (b.ondatachannel = (e) => resolve(e.channel)));
      const dc = a.createDataChannel('x');
      b.createDataChannel('polite-side channel, made before any description', { negotiated: true, id: 7 });
      await a.setLocalDescription();
      expect(a.localDescription!.type).toBe('offer');
      expect(b.signalingState).toBe('stable'); // the polite side's channel made no offer
      await b.setRemoteDescription(a.localDescription!);
      expect(b.signalingState).toBe('have-remote-offer');
      await b.setLocalDescription();
      expect(b.localDescription!.type).toBe('answer');
      expect(b.signalingState).toBe('stable');
      await a.setRemoteDescription(b.localDescription!);
      await Promise.all([opened(dc), remote.then(opened)]);
    } finally {
      a.close();
      b.close();
    }
  });

  it('accepts TURN REST credentials with ":" in the username, and rejects a malformed URL with a SyntaxError', () => {
    const pc = new NodeRTCPeerConnection({ iceServers: [{ urls: ['turn:127.0.0.1:3478'], username: '1700000000:alice', credential: 'a/b+c=' }] });
    pc.close();
    expect(() => new NodeRTCPeerConnection({ iceServers: [{ urls: 'http://nope' }] })).toThrow(SyntaxError);
  });
});
