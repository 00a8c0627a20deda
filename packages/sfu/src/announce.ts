/**
 * An announced address for 1:1 NAT (a cloud VM: a private address on the host, a public one
 * mapped to it port for port). Neither engine can say so itself: werift's
 * `iceAdditionalHostAddresses` binds a socket to each address (a public address not on the host
 * cannot be bound) and libdatachannel has no such option. So the SFU rewrites what it sends: the
 * address of each host candidate (RFC 8839 §5.1) of the announced family, port kept, in every
 * SDP it hands out and every candidate it trickles, and the `c=` lines. The sockets stay
 * where the engine bound them; the NAT maps the public address onto them.
 */
import { isIP } from 'node:net';
import type { Engine, IceCandidate, PublisherTransport, SubscriberTransport, ViewerTransport } from './engine.js';

/** `candidate:…` with a host candidate's connection address replaced by `address` when of its family; others as they are. */
export function announceCandidate(candidate: string, address: string): string {
  const parts = candidate.split(' ');
  // foundation component transport priority address port "typ" type …
  if (parts.length < 8 || parts[6] !== 'typ' || parts[7] !== 'host') return candidate;
  if (isIP(parts[4]!) !== isIP(address)) return candidate;
  parts[4] = address;
  return parts.join(' ');
}

/** Foundation and priority aside: the same candidate twice once rewritten (interfaces that share one socket). */
const sameCandidate = (candidate: string): string =>
  candidate
    .split(' ')
    .filter((_, i) => i !== 0 && i !== 3)
    .join(' ');

/**
 * `sdp` with every host candidate of `address`'s family announcing `address` instead (one
 * line per address, port and component: a host whose interfaces share one socket lists it
 * once), and `c=` lines of that family that named a host address.
 */
export function announceSdp(sdp: string, address: string): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const family = isIP(address) === 6 ? 'IP6' : 'IP4';
  const out: string[] = [];
  let seen = new Set<string>();
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) seen = new Set();
    if (line.startsWith('a=candidate:')) {
      const rewritten = `a=${announceCandidate(line.slice(2), address)}`;
      const key = sameCandidate(rewritten);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(rewritten);
    } else if (line.startsWith(`c=IN ${family} `) && !/^c=IN IP[46] (0\.0\.0\.0|::)$/.test(line)) {
      out.push(`c=IN ${family} ${address}`);
    } else {
      out.push(line);
    }
  }
  return out.join(eol);
}

function announced(candidates: IceCandidate[], address: string): IceCandidate[] {
  const seen = new Set<string>();
  const out: IceCandidate[] = [];
  for (const c of candidates) {
    const candidate = announceCandidate(c.candidate, address);
    const key = `${c.sdpMid} ${sameCandidate(candidate)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...c, candidate });
  }
  return out;
}

function publisherTransport(t: PublisherTransport, address: string): PublisherTransport {
  return {
    id: t.id,
    answer: async (offer) => announceSdp(await t.answer(offer), address),
    addRemoteCandidate: (c) => t.addRemoteCandidate(c),
    sendBitrateEstimate: (remb) => t.sendBitrateEstimate(remb),
    onStream: (listener) => t.onStream(listener),
    onClose: (listener) => t.onClose(listener),
    close: () => t.close(),
  };
}

function subscriberTransport(t: SubscriberTransport, address: string): SubscriberTransport {
  return {
    id: t.id,
    addTrack: (mimeType) => t.addTrack(mimeType),
    removeTrack: (track) => t.removeTrack(track),
    createOffer: async () => announceSdp(await t.createOffer(), address),
    acceptAnswer: (answer, onCandidates) => t.acceptAnswer(answer, (candidates) => onCandidates(announced(candidates, address))),
    onClose: (listener) => t.onClose(listener),
    close: () => t.close(),
  };
}

function viewerTransport(t: ViewerTransport, address: string): ViewerTransport {
  return {
    id: t.id,
    acceptOffer: (offer, wanted) => t.acceptOffer(offer, wanted),
    createAnswer: async () => announceSdp(await t.createAnswer(), address),
    addRemoteCandidate: (c) => t.addRemoteCandidate(c),
    connected: () => t.connected(),
    onClose: (listener) => t.onClose(listener),
    close: () => t.close(),
  };
}

/** `engine`, announcing `address` (an IP address) in its host candidates. */
export function announceAddress(engine: Engine, address: string): Engine {
  if (isIP(address) === 0) throw new RangeError(`the announced address must be an IP address, got ${JSON.stringify(address)}`);
  return {
    name: engine.name,
    createPublisherTransport: () => publisherTransport(engine.createPublisherTransport(), address),
    createSubscriberTransport: () => subscriberTransport(engine.createSubscriberTransport(), address),
    createViewerTransport: () => viewerTransport(engine.createViewerTransport(), address),
    counts: () => engine.counts(),
    close: () => engine.close(),
  };
}
