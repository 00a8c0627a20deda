/** RFC 8656 §12: the channel numbers a client may bind. */
export const MIN_CHANNEL_NUMBER = 0x4000;
export const MAX_CHANNEL_NUMBER = 0x4fff;
/**
 * RFC 5766 §11 allowed 0x4000–0x7FFF; RFC 8656 reserved 0x5000–0x7FFF for RFC 7983
 * demultiplexing. Older clients (coturn's own turnutils_uclient among them) still use them.
 */
export const MAX_LEGACY_CHANNEL_NUMBER = 0x7fff;
/** RFC 8656 §12.4: 2-byte channel number + 2-byte length. */
export const CHANNEL_DATA_HEADER_LENGTH = 4;

/** RFC 8656 §12.4: a ChannelData message. */
export interface ChannelData {
  readonly channel: number;
  readonly data: Buffer;
}

/** Whether the first byte marks a ChannelData message (top bits 01, RFC 8656 §12). */
export function looksLikeChannelData(data: Uint8Array): boolean {
  return data.length >= CHANNEL_DATA_HEADER_LENGTH && ((data[0] ?? 0) & 0xc0) === 0x40;
}

/** Whether `channel` may be bound: RFC 8656's range, or RFC 5766's when `legacy` is set. */
export function isValidChannelNumber(channel: number, legacy = false): boolean {
  return channel >= MIN_CHANNEL_NUMBER && channel <= (legacy ? MAX_LEGACY_CHANNEL_NUMBER : MAX_CHANNEL_NUMBER);
}

/**
 * Encode ChannelData. Over TCP/TLS the message MUST be padded to a multiple of 4 bytes
 * (RFC 8656 §12.5); over UDP padding is optional and we leave it out.
 */
export function encodeChannelData(channel: number, data: Uint8Array, pad: boolean): Buffer {
  const length = CHANNEL_DATA_HEADER_LENGTH + data.length;
  const out = Buffer.allocUnsafe(pad ? (length + 3) & ~3 : length);
  out.writeUInt16BE(channel, 0);
  out.writeUInt16BE(data.length, 2);
  out.set(data, CHANNEL_DATA_HEADER_LENGTH);
  out.fill(0, length);
  return out;
}

/**
 * Decode ChannelData (any channel 0x4000–0x7FFF; whether it is bound is the allocation's
 * business), or undefined when the length field overruns the buffer (RFC 8656 §12.5: such
 * messages are silently discarded). Trailing padding is ignored.
 */
export function decodeChannelData(buf: Buffer): ChannelData | undefined {
  if (!looksLikeChannelData(buf)) return undefined;
  const channel = buf.readUInt16BE(0);
  const length = buf.readUInt16BE(2);
  if (CHANNEL_DATA_HEADER_LENGTH + length > buf.length) return undefined;
  return { channel, data: buf.subarray(CHANNEL_DATA_HEADER_LENGTH, CHANNEL_DATA_HEADER_LENGTH + length) };
}
