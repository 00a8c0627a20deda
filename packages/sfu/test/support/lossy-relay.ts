/**
 * A UDP relay between a Chromium page and the SFU that loses some of the SFU's video packets
 * on the way, as a lossy link would: the page is given only the relay's address as the SFU's
 * candidate, the SFU learns the page only as the relay's (peer-reflexive), so every packet
 * goes through it. SRTP leaves the RTP header in clear (RFC 3711 §3.1), so the relay can
 * pick video packets by payload type and remember which sequence numbers it dropped; a
 * retransmission of one of them (the same sequence number) passes.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { IceCandidate } from '../../src/index.js';

export interface LossyRelay {
  /** The relay's candidate for the page, in place of the SFU's. */
  candidate(sdpMid: string): IceCandidate;
  /** Video packets dropped so far, and those of them that came again (retransmitted). */
  dropped: number;
  resent: number;
  close(): void;
}

/** Relays between the page and the SFU's first IPv4 UDP candidate, dropping every `every`-th RTP packet of payload type `payloadType`. */
export async function lossyRelay(sfuCandidates: IceCandidate[], payloadType: number, every: number): Promise<LossyRelay> {
  const target = sfuCandidates.map((c) => c.candidate.split(' ')).find((f) => f[2]?.toLowerCase() === 'udp' && /^\d+\.\d+\.\d+\.\d+$/.test(f[4] ?? ''));
  if (!target) throw new Error('the SFU gave no IPv4 UDP candidate');
  const [sfuAddress, sfuPort] = [target[4]!, Number(target[5])];
  const bind = (socket: Socket, address: string): Promise<void> => new Promise((resolve) => socket.bind(0, address, resolve));
  const toPage = createSocket('udp4');
  const toSfu = createSocket('udp4');
  await bind(toPage, '127.0.0.1');
  await bind(toSfu, '0.0.0.0');
  let page: { address: string; port: number } | undefined;
  const droppedSeqs = new Set<number>();
  let videoPackets = 0;
  const relay: LossyRelay = {
    dropped: 0,
    resent: 0,
    candidate: (sdpMid) => ({ candidate: `candidate:1 1 UDP 2122252543 127.0.0.1 ${toPage.address().port} typ host`, sdpMid }),
    close: () => {
      toPage.close();
      toSfu.close();
    },
  };
  toPage.on('message', (msg, from) => {
    page = { address: from.address, port: from.port };
    toSfu.send(msg, sfuPort, sfuAddress);
  });
  toSfu.on('message', (msg) => {
    if (!page) return;
    const rtp = msg.length >= 12 && msg[0]! >> 6 === 2 && (msg[1]! & 0x7f) === payloadType;
    if (rtp) {
      const seq = msg.readUInt16BE(2);
      if (droppedSeqs.has(seq)) {
        droppedSeqs.delete(seq);
        relay.resent++;
      } else if (++videoPackets % every === 0) {
        droppedSeqs.add(seq);
        relay.dropped++;
        return;
      }
    }
    toPage.send(msg, page.port, page.address);
  });
  return relay;
}
