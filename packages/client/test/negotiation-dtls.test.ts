/**
 * The first remote offer, when its signal asks for it (`setup: 'active'`, on every SDK offer),
 * is applied as if its sender had taken the DTLS client role, so the answerer (ready first)
 * is the DTLS server: see asDtlsServer in src/peer/negotiation.ts. Offers without it (aiortc)
 * get the default active answer, so stream-id parity by ICE role and by DTLS role agree.
 * Between two real node-datachannel peers the answer then says `passive` and the offerer
 * becomes the client.
 */
import { describe, expect, it } from 'vitest';
import { RTCPeerConnection as NodeRTCPeerConnection } from 'node-datachannel/polyfill';
import { asDtlsServer, Negotiation } from '../src/peer/negotiation.js';
import type { RtcSignal } from '../src/peer/signals.js';

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

describe('the answer to a first offer', () => {
  /** The answer a node-datachannel Negotiation sends to `offer`, with the signal's `setup`. */
  async function answerTo(setup: 'active' | undefined): Promise<string> {
    const make = () => new NodeRTCPeerConnection({ iceServers: [] }) as unknown as RTCPeerConnection;
    const [a, b] = [make(), make()];
    try {
      a.createDataChannel('x');
      await a.setLocalDescription();
      const sent: RtcSignal[] = [];
      const negotiation = new Negotiation({ pc: b, gen: 0, polite: true, send: (s) => sent.push(s), negotiated: () => {}, error: (e) => {
        throw e;
      } });
      await negotiation.handleDescription(a.localDescription!.toJSON(), setup);
      negotiation.dispose();
      const answer = sent.find((s) => 'description' in s);
      if (!answer || !('description' in answer)) throw new Error(`no answer: ${JSON.stringify(sent)}`);
      return answer.description.sdp;
    } finally {
      a.close();
      b.close();
    }
  }

  it("is passive when the offer's signal says setup: 'active' (every SDK offer), else active (aiortc, others)", async () => {
    expect(await answerTo('active')).toMatch(/^a=setup:passive\r?$/m);
    expect(await answerTo(undefined)).toMatch(/^a=setup:active\r?$/m);
  });

  it("SDK offers carry setup: 'active'", async () => {
    const pc = new NodeRTCPeerConnection({ iceServers: [] }) as unknown as RTCPeerConnection;
    try {
      pc.createDataChannel('x');
      const sent: RtcSignal[] = [];
      const negotiation = new Negotiation({ pc, gen: 0, polite: false, send: (s) => sent.push(s), negotiated: () => {}, error: (e) => {
        throw e;
      } });
      await negotiation.offer();
      negotiation.dispose();
      expect(sent.find((s) => 'description' in s)).toMatchObject({ description: { type: 'offer' }, setup: 'active' });
    } finally {
      pc.close();
    }
  });
});
