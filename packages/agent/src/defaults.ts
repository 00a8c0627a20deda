/**
 * Every tunable of the agent and its clients, with its default. Option types are partials
 * of resolved ones and are merged once where they are used.
 */

/** Label prefix of forward streams: `pinhole-forward:<stream id>` (one RTCDataChannel per TCP connection). */
export const FORWARD_LABEL_PREFIX = 'pinhole-forward:';
/** Subprotocol of forward-stream data channels. */
export const FORWARD_PROTOCOL = 'pinhole-forward';
/** Named channels of the services (see docs/protocol/agent.md §13). */
export const SERVICE_CHANNELS = { agent: 'agent', echo: 'echo', files: 'files' } as const;
/** Version of the agent's service protocols, announced in its room meta and `info`. */
export const AGENT_PROTOCOL_VERSION = 1;

/**
 * Bytes a forward stream may have sent and not yet had acknowledged as written to the
 * far socket. This is the end-to-end flow control: a slow reader on one side stops the
 * writer's socket on the other. 2 MiB keeps a 50 ms relayed path at ≈ 40 MB/s.
 */
export const DEFAULT_STREAM_WINDOW_BYTES = 2 * 1024 * 1024;
/** The receiver acknowledges after this many more bytes reached its socket. */
export const DEFAULT_STREAM_ACK_BYTES = 256 * 1024;
/** Largest binary message of a stream (socket reads are sliced to it). */
export const DEFAULT_STREAM_CHUNK_BYTES = 64 * 1024;
/** The socket is also paused while the channel buffers more than this… */
export const DEFAULT_STREAM_HIGH_WATER_BYTES = 1024 * 1024;
/** …and may go on once the buffer is down to this (bufferedAmountLowThreshold). */
export const DEFAULT_STREAM_LOW_WATER_BYTES = 256 * 1024;
/** A stream whose open is not answered within this is reset (`timeout`). */
export const DEFAULT_STREAM_OPEN_TIMEOUT_MS = 15_000;

/** `list` answers with at most this many entries (the rest is reported as `truncated`). */
export const MAX_LIST_ENTRIES = 10_000;
/** An echo channel buffering more than this is closed (a peer that sends and never reads). */
export const MAX_ECHO_BUFFERED_BYTES = 16 * 1024 * 1024;
/** A refused channel (unknown service, refused stream) is closed by the agent this long after its error reply, if the client has not. */
export const REFUSE_GRACE_MS = 5_000;
/** A request whose reply does not come within this fails with `timeout`. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

/** Retry of the first connection to the hub (the SDK's own reconnects take over after). */
export const DEFAULT_RECONNECT = { initialDelayMs: 500, maxDelayMs: 30_000, factor: 2, jitter: 0.5 } as const;
