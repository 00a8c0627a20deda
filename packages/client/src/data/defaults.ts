/**
 * Every tunable of the data layer (named channels and file transfers), with its default.
 * Public option types are partials of the resolved ones; each class merges once.
 */

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
/** The browser Blob sink folds received chunks into one Blob part every this many bytes. */
export const DEFAULT_BLOB_FOLD_BYTES = 4 * 1024 * 1024;
/** Finished transfer ids remembered so a sender that lost the final `done` can be told again. */
export const FINISHED_IDS_KEPT = 256;
