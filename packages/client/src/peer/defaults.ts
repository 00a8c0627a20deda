/** Defaults of the peer-connection layer; `PeerConnectionOptions` documents each by name. */

/**
 * How long a new connection may take to reach 'connected' before the impolite side repairs
 * it. A connection that never connects raises no 'failed' or 'disconnected' to react to:
 * Chromium sometimes leaves the polite side's transport gathering forever after an offer
 * collision, and a lost signal can leave both sides waiting. 30 s, as ICE's own failure
 * timeouts (libjuice, Chromium): a slow connect through NATs and relays is not cut short
 * (10 s did, in the NAT topology test under load).
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
/**
 * The polite side does not make a connection's first offer: it waits this long for the
 * impolite side's and answers it, offering itself only if none came. Why: when both sides
 * offer at once, Chromium sometimes leaves the polite side's transport, after the implicit
 * rollback, gathering forever with no candidates (about a third of 3-person calls in the
 * web-app E2E), and in-place ICE restarts do not revive it.
 */
export const POLITE_FIRST_OFFER_WAIT_MS = 3_000;
/** How long 'disconnected' may last before ICE is restarted. */
export const DEFAULT_DISCONNECTED_TIMEOUT_MS = 4_000;
/** Wait after the first restart before trying again if still not connected; doubles per attempt. */
export const DEFAULT_RESTART_TIMEOUT_MS = 5_000;
/** Ceiling of the doubling restart wait. */
export const MAX_RESTART_TIMEOUT_MS = 30_000;
/**
 * In-place ICE restarts tried before rebuilding the connection from scratch (a DTLS or SCTP
 * failure is not healed by an ICE restart, and a closed RTCPeerConnection cannot restart).
 */
export const ICE_RESTARTS_BEFORE_REBUILD = 2;

/**
 * Every connection carries one pre-negotiated data channel (never announced to the
 * application). It gives every offer an m=application section, so the connection comes up
 * before the application opens channels, later channels need no renegotiation, and
 * node-datachannel (which cannot offer without a channel or track) always has something to
 * negotiate. Both sides create it with the same id, so no DCEP handshake is involved.
 */
export const CONTROL_CHANNEL_LABEL = 'pinhole';
export const CONTROL_CHANNEL_ID = 0;
