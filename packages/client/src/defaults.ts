/**
 * Every tunable default of the SDK, in one place: the hub connection and its transport
 * ladder, reconnection, the rendezvous signalers, peer connections and their negotiation,
 * named channels and file transfers, and the Node entry. Option types document each field
 * by the name of its default here, and docs/architecture.md cites the names, not the
 * numbers, so that no prose copy drifts from the code.
 */

// ---------------------------------------------------------------- hub connection (HubConnection)

/** Time allowed for one rung of the ladder to open (hello → welcome, first stream bytes). */
export const DEFAULT_OPEN_TIMEOUT_MS = 8_000;
/** While on a lower rung, the better ones are tried this often (0 = never). */
export const DEFAULT_PROBE_INTERVAL_MS = 30_000;
/** Frames kept for resending while disconnected; past it `send` throws `too-many-retained`. */
export const DEFAULT_MAX_RETAINED = 10_000;
/** A cumulative ack goes out once this many frames arrived since the last one… */
export const ACK_EVERY_FRAMES = 32;
/** …or this long after the first frame it covers, whichever comes first. */
export const ACK_DELAY_MS = 50;
/** On WebSocket, a `ping` (asking for `lastId`) once more than this many frames wait for the hub. */
export const PING_RETAINED_FRAMES = 64;
/** At most one `ping` per this interval. */
export const MIN_PING_INTERVAL_MS = 1_000;
/** The liveness watchdog looks at the link this often. */
export const WATCHDOG_INTERVAL_MS = 1_000;
/**
 * A link is dead after 2 × the hub's heartbeat plus this slack without a sign of life (on
 * WebSocket a `ping` goes out after one heartbeat of silence).
 */
export const LIVENESS_SLACK_MS = 1_000;
/** `close()` gives its `bye` this long to leave over WebSocket (one message)… */
export const BYE_GRACE_WS_MS = 50;
/** …and this long over SSE or polling (one POST). */
export const BYE_GRACE_HTTP_MS = 300;
/** A long poll (answered within the hub's `pollHoldMs`) may take that plus this before it counts as lost. */
export const POLL_SLACK_MS = 10_000;

// ---------------------------------------------------------------- reconnection (Backoff)

/** Exponential backoff with jitter for reconnect attempts (`ReconnectOptions`). */
export const DEFAULT_RECONNECT = {
  /** First delay. */
  initialDelayMs: 250,
  /** Ceiling. */
  maxDelayMs: 10_000,
  /** Growth per attempt. */
  factor: 2,
  /** 0…1: each delay is drawn uniformly from [d × (1 − jitter), d]. */
  jitter: 0.5,
  /** Give up after this many attempts: never by default. */
  maxAttempts: Infinity,
} as const;

// ---------------------------------------------------------------- rendezvous signalers

/** MQTT topic prefix (docs/protocol/rendezvous.md §14.1). */
export const DEFAULT_MQTT_PREFIX = 'pinhole/v1';
/**
 * A presence is valid this long without a refresh; members refresh it every third of it,
 * and a member silent for longer is reported gone (`timeout`).
 */
export const DEFAULT_PRESENCE_TTL_MS = 30_000;
/** A presence is kept this much longer than its TTL says (clock skew, delivery delay). */
export const PRESENCE_GRACE_MS = 1_000;
/** Opening a broker connection (and a join's round trip) may take this long. */
export const DEFAULT_BROKER_CONNECT_TIMEOUT_MS = 8_000;
/** MQTT keep-alive: the broker publishes our last will after 1.5 × this of silence. */
export const DEFAULT_MQTT_KEEPALIVE_S = 20;
/** mqtt.js reconnects a dropped broker connection after this. */
export const MQTT_RECONNECT_PERIOD_MS = 1_000;
/** Largest broker message accepted or sent (bytes of UTF-8 JSON); SDPs are a few KiB. */
export const MAX_BROKER_PAYLOAD_BYTES = 256 * 1024;
/** Manual exchange: how long to wait for ICE gathering to complete before encoding what we have. */
export const DEFAULT_GATHER_TIMEOUT_MS = 5_000;
/**
 * Manual exchange, answering side: how long after our answer is made the offer's candidates
 * are applied. Until then our ICE agent cannot reach the offering side, which connects to
 * us when it applies the answer (libdatachannel's early-answer race, docs/architecture.md,
 * "Early answers"); after it, our checks go out (a NAT in front of us may need them).
 */
export const DEFAULT_MANUAL_CANDIDATE_HOLD_MS = 2_000;
/** Largest decoded manual string accepted (inflated bytes): guards against deflate bombs. */
export const MAX_MANUAL_INFLATED_BYTES = 64 * 1024;
/** Chain: opening a rung's signaler and joining the rooms on it may take this long. */
export const DEFAULT_RUNG_CONNECT_TIMEOUT_MS = 8_000;
/** Redis key and channel prefix (docs/protocol/rendezvous.md §14.4). */
export const DEFAULT_REDIS_PREFIX = 'pinhole:v1';
/** Sealed signaling: PBKDF2-SHA-256 iterations deriving a room's key from its passphrase (§14.5). */
export const SEAL_PBKDF2_ITERATIONS = 200_000;
/** Sealed signaling: the PBKDF2 salt is this prefix + the room name (UTF-8). */
export const SEAL_SALT_PREFIX = 'pinhole-sealed-v1:';
/**
 * In-band signaling: largest control-channel frame accepted (characters of JSON). An SDP with
 * a few media sections is tens of KiB; 64 KiB stays under every implementation's SCTP
 * max-message-size (RFC 8841 §6.1 default 64 KiB).
 */
export const MAX_IN_BAND_FRAME_BYTES = 64 * 1024;

// ---------------------------------------------------------------- peer connections (PeerConnection, Negotiation)

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
/** Wait after the first restart before trying again if still not connected; doubles with each timed retry. */
export const DEFAULT_RESTART_TIMEOUT_MS = 5_000;
/** Ceiling of the doubling restart wait. */
export const MAX_RESTART_TIMEOUT_MS = 30_000;
/**
 * In-place ICE restarts tried before rebuilding the connection from scratch (a DTLS or SCTP
 * failure is not healed by an ICE restart, and a closed RTCPeerConnection cannot restart).
 */
export const ICE_RESTARTS_BEFORE_REBUILD = 2;
/**
 * A connection built by a repair that closes before it connects (libdatachannel closes one
 * whose DTLS handshake failed) is rebuilt at once, not after the repair's restart timeout,
 * this many times in a row; later ones wait for the restart timeout, so a peer that fails
 * every handshake cannot make us rebuild in a tight loop. Only timed retries double that
 * wait, so after the immediate rebuilds it is DEFAULT_RESTART_TIMEOUT_MS. (Each rebuild used to
 * double it: when the race struck five connects in a row on a loaded machine, the next try
 * came MAX_RESTART_TIMEOUT_MS later.) Why: on a loaded machine
 * libdatachannel loses a few percent of connects to a race of its own (its DTLS handshake
 * can check the remote certificate before the answer's fingerprint is stored; see
 * docs/architecture.md, "peer/"), and waiting DEFAULT_RESTART_TIMEOUT_MS and then twice that
 * for a connection that was already gone made healing take 5–15 s instead of milliseconds.
 */
export const IMMEDIATE_REBUILDS_AFTER_CLOSE = 3;
/**
 * Every connection carries one pre-negotiated data channel (never announced to the
 * application). It gives every offer an m=application section, so the connection comes up
 * before the application opens channels, later channels need no renegotiation, and
 * node-datachannel (which cannot offer without a channel or track) always has something to
 * negotiate. Both sides create it with the same id, so no DCEP handshake is involved.
 */
export const CONTROL_CHANNEL_LABEL = 'pinhole';
export const CONTROL_CHANNEL_ID = 0;

// ---------------------------------------------------------------- named channels and file transfers (data/)

/** Label prefix of named channels: `pinhole-channel:<name>`. */
export const CHANNEL_LABEL_PREFIX = 'pinhole-channel:';
/** Label prefix of file-transfer channels: `pinhole-file:<transfer id>`. */
export const FILE_LABEL_PREFIX = 'pinhole-file:';
/** `send` returns false (and `write` waits) once the channel buffers more than this. */
export const DEFAULT_HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** bufferedAmountLowThreshold: `drain()` resolves once the buffer falls to this. */
export const DEFAULT_LOW_WATER_BYTES = 1024 * 1024;
/** Bytes of reliable messages queued while a channel is down; past it `send` throws `queue-full`. */
export const DEFAULT_MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/**
 * Largest single message (UTF-8 bytes of a string, plus the 1-byte kind tag). 256 KiB is
 * what Chromium and libdatachannel accept; stay at or under 64 KiB for old Safari/Firefox.
 */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/**
 * File chunk size. 64 KiB is the largest size every WebRTC stack accepts; on loopback a
 * transfer moves ~88 MB/s at 64 KiB vs ~76 at 16 KiB and no more at 128–256 KiB, and
 * Chromium is flat above 64 KiB (bench/client/README.md).
 */
export const DEFAULT_CHUNK_BYTES = 64 * 1024;
/** The sender reads this much per positional read and slices it into chunks. */
export const DEFAULT_READ_BYTES = 1024 * 1024;
/** Bytes the sender may have sent beyond the receiver's last acknowledgement. */
export const DEFAULT_WINDOW_BYTES = 8 * 1024 * 1024;
/** The receiver acknowledges after this many more bytes reached its sink. */
export const DEFAULT_ACK_BYTES = 1024 * 1024;
/** A transfer whose channel died fails with `connection-lost` unless resumed within this. */
export const DEFAULT_RESUME_TIMEOUT_MS = 30_000;
/** Progress events are emitted at most this often (and always at the end). */
export const DEFAULT_PROGRESS_INTERVAL_MS = 100;
/** Time constant of the exponentially smoothed transfer rate. */
export const RATE_SMOOTHING_MS = 2_000;
/** Offers announcing more bytes are rejected with `too-large`. */
export const DEFAULT_MAX_FILE_BYTES = Number.MAX_SAFE_INTEGER;
/** Largest control message of a transfer (JSON text); larger ones are `bad-message`. */
export const MAX_CONTROL_BYTES = 64 * 1024;
/** A cancel/reject/error notice is given this long to reach the peer before the channel closes anyway. */
export const CLOSE_GRACE_MS = 5_000;
/** A refused incoming transfer's channel is closed this long after the refusal is sent. */
export const REFUSAL_CLOSE_DELAY_MS = 1_000;
/** The browser Blob sink folds received chunks into one Blob part every this many bytes. */
export const DEFAULT_BLOB_FOLD_BYTES = 4 * 1024 * 1024;
/** Finished transfer ids remembered so a sender that lost the final `done` can be told again. */
export const FINISHED_IDS_KEPT = 256;

// ---------------------------------------------------------------- Node entry

/** Node has no network-change event: `os.networkInterfaces()` is compared this often. */
export const INTERFACE_POLL_MS = 3_000;

// ---------------------------------------------------------------- topology (mesh ↔ SFU, Room)

/** A room stays peer-to-peer up to this many participants (us included) and moves to the SFU past it. */
export const DEFAULT_MESH_MAX = 2;
/**
 * A room that shrank back to `meshMax` returns to the mesh after this long at that size. Off
 * (Infinity) by default: after the return's renegotiation (both sides add back at once) one
 * side's mesh receiver tracks can stay muted in Chromium under load although the RTP arrives
 * and is decoded (inbound framesDecoded rises, the <video> gets no frames), so a room stays on
 * the SFU while the SFU is there. RoomOptions.meshReturnMs opts in. See peer.md §12.5.
 */
export const MESH_RETURN_MS = Infinity;
/**
 * Make before break: after a switch, media keeps flowing the old way to each member until it
 * says it receives us the new way (`pinhole: "media"`), and to anyone at most this long.
 */
export const TOPOLOGY_SWITCH_GRACE_MS = 10_000;
/** A publication or subscription the SFU refused as `closed` (or that failed) is tried again after this long. */
export const SFU_RETRY_MS = 1_000;
/** Connections to the SFU disconnected or failed (or its media stopped) this long: the media goes back to the mesh… */
export const SFU_UNHEALTHY_MS = 4_000;
/**
 * …in a room of at most this many participants; a bigger one would load every browser with
 * a copy per member (a spiral on a loaded machine): it reconnects to the SFU instead.
 */
export const MESH_FALLBACK_MAX = 4;
/** …and the SFU is tried again this much later (at once when another SFU joins the room). */
export const SFU_UNHEALTHY_RETRY_MS = 20_000;
/** The simulcast layer a new SFU subscription starts on (`q` low, `h` half, `f` full resolution). */
export const DEFAULT_SFU_LAYER = 'h';
/** Chromium-style simulcast: three RID layers at ¼, ½ and full resolution (docs/protocol/sfu.md §15.3). */
export const SIMULCAST_ENCODINGS: readonly RTCRtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', maxBitrate: 1_500_000 },
];
