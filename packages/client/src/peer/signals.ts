/**
 * The payloads peers exchange through a Signaler to set up and repair a connection.
 * They travel inside `signal` frames as `{ pinhole: 'rtc', … }` so they never clash with an
 * application's own messages (docs/protocol/peer.md §12.1, "Peer-connection signals").
 */
export interface RtcDescriptionSignal {
  pinhole: 'rtc';
  /** Connection generation: bumped when a peer connection is rebuilt from scratch. */
  gen: number;
  description: { type: 'offer' | 'answer'; sdp: string };
  /**
   * Offers only: the offerer asks to be the DTLS client, i.e. for an `a=setup:passive`
   * answer to a connection's first offer (asDtlsServer in negotiation.ts says why). The SDK
   * sends it on every offer; an offer without it gets the default `a=setup:active` answer,
   * which keeps the DTLS server on the ICE-controlling side, where stacks that pick SCTP
   * stream ids from the ICE role (aiortc) expect it.
   */
  setup?: 'active';
}

export interface RtcCandidateSignal {
  pinhole: 'rtc';
  gen: number;
  /** null = end-of-candidates. */
  candidate: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null; usernameFragment?: string | null } | null;
}

/** Asks the other side to rebuild (or, with `ice`, restart ICE on) the connection. */
export interface RtcRestartSignal {
  pinhole: 'rtc';
  gen: number;
  restart: 'ice' | 'rebuild';
}

export type RtcSignal = RtcDescriptionSignal | RtcCandidateSignal | RtcRestartSignal;

export function isRtcSignal(data: unknown): data is RtcSignal {
  return typeof data === 'object' && data !== null && (data as { pinhole?: unknown }).pinhole === 'rtc';
}

/**
 * For `iceTransportPolicy: 'relay'`: removes every non-relay candidate from a signal.
 * Some implementations (libdatachannel/libjuice) gather only relay candidates under that
 * policy but still write host candidates into the SDP, which lets a direct path form.
 */
export function relayOnly(signal: RtcSignal): RtcSignal | undefined {
  const isRelay = (line: string): boolean => / typ relay( |$)/.test(line);
  if ('description' in signal) {
    const sdp = signal.description.sdp
      .split('\r\n')
      .filter((line) => !line.startsWith('a=candidate:') || isRelay(line))
      .join('\r\n');
    return { ...signal, description: { ...signal.description, sdp } };
  }
  if ('candidate' in signal && signal.candidate && !isRelay(signal.candidate.candidate)) return undefined;
  return signal;
}
