/**
 * `application/trickle-ice-sdpfrag` bodies (RFC 8840 §9), as WHIP and WHEP clients PATCH them
 * onto a session (RFC 9725 §4.3): ICE credentials, candidates per media section, and
 * end-of-candidates. Only what a trickle or a restart needs is kept.
 */
import { GatewayError } from './errors.js';

export interface FragCandidate {
  /** The attribute value without "a=", as RTCIceCandidateInit.candidate takes it: "candidate:…". */
  candidate: string;
  /** The media section's MID, when the fragment names one. */
  sdpMid: string | undefined;
}

export interface SdpFrag {
  ufrag: string | undefined;
  pwd: string | undefined;
  candidates: FragCandidate[];
  endOfCandidates: boolean;
}

const MAX_LINES = 1000;

export function parseSdpFrag(body: string): SdpFrag {
  const lines = body.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines.length > MAX_LINES) throw new GatewayError(400, 'bad-sdpfrag', `a fragment of more than ${MAX_LINES} lines`);
  const frag: SdpFrag = { ufrag: undefined, pwd: undefined, candidates: [], endOfCandidates: false };
  let mid: string | undefined;
  for (const line of lines) {
    if (!/^[a-z]=/.test(line)) throw new GatewayError(400, 'bad-sdpfrag', `not an SDP line: ${JSON.stringify(line.slice(0, 80))}`);
    if (line.startsWith('m=')) {
      mid = undefined;
      continue;
    }
    if (!line.startsWith('a=')) continue;
    const attr = line.slice(2);
    const colon = attr.indexOf(':');
    const name = colon === -1 ? attr : attr.slice(0, colon);
    const value = colon === -1 ? '' : attr.slice(colon + 1);
    switch (name) {
      case 'mid':
        mid = value;
        break;
      case 'ice-ufrag':
        frag.ufrag = value;
        break;
      case 'ice-pwd':
        frag.pwd = value;
        break;
      case 'candidate':
        // foundation component transport priority address port "typ" type (RFC 8839 §5.1).
        if (value.split(' ').length < 8) throw new GatewayError(400, 'bad-sdpfrag', `malformed candidate: ${JSON.stringify(value.slice(0, 120))}`);
        frag.candidates.push({ candidate: attr, sdpMid: mid });
        break;
      case 'end-of-candidates':
        frag.endOfCandidates = true;
        break;
    }
  }
  return frag;
}

/** The ICE username fragment of an SDP (session or first media level). */
export function sdpUfrag(sdp: string): string | undefined {
  return /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
}
