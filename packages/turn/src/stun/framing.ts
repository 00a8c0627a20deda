import { HEADER_LENGTH, MAGIC_COOKIE } from './constants.js';

/** What went wrong in a byte stream; the connection should be closed. */
export class StreamFramingError extends Error {
  override readonly name = 'StreamFramingError';
}

/**
 * Splits a TCP/TLS byte stream into STUN messages and ChannelData messages (RFC 8656 §12.5:
 * over streams, ChannelData is padded to 4 bytes; RFC 8489 §6.2.2: STUN messages are
 * self-delimiting). Anything whose first two bits are neither 00 (STUN) nor 01 (ChannelData)
 * cannot be resynchronised, so `push` throws and the caller drops the connection. So does a
 * STUN header without the magic cookie, and — with `requireStunFirst`, as a server uses it —
 * ChannelData before any STUN message (nothing can be bound yet): this catches an HTTP request
 * or random bytes at once instead of waiting for a length field's worth of garbage.
 */
export class StreamFramer {
  private buffered: Buffer = Buffer.alloc(0);
  private sawStun: boolean;

  constructor(
    private readonly maxBuffered: number,
    options: { requireStunFirst?: boolean } = {},
  ) {
    this.sawStun = !options.requireStunFirst;
  }

  /** Feed received bytes; returns every complete frame, in order. */
  push(chunk: Buffer): Buffer[] {
    let data = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: Buffer[] = [];
    for (;;) {
      const size = frameSize(data, this.sawStun);
      if (size === undefined || size > data.length) break;
      if (((data[0] ?? 0) & 0xc0) === 0) this.sawStun = true;
      frames.push(data.subarray(0, size));
      data = data.subarray(size);
    }
    if (data.length > this.maxBuffered) throw new StreamFramingError('unframed data exceeds the limit');
    // Copy the remainder so a large chunk is not kept alive by a small tail.
    this.buffered = data.length === 0 ? Buffer.alloc(0) : Buffer.from(data);
    return frames;
  }
}

/** Total bytes of the frame at the start of `data`, or undefined when the header is incomplete. */
function frameSize(data: Buffer, channelDataAllowed: boolean): number | undefined {
  if (data.length < 4) return undefined;
  const kind = (data[0] ?? 0) & 0xc0;
  const length = data.readUInt16BE(2);
  if (kind === 0x00) {
    if (length % 4 !== 0) throw new StreamFramingError('STUN length is not a multiple of 4');
    if (data.length >= 8 && data.readUInt32BE(4) !== MAGIC_COOKIE) throw new StreamFramingError('STUN header without the magic cookie');
    return HEADER_LENGTH + length;
  }
  if (kind === 0x40) {
    if (!channelDataAllowed) throw new StreamFramingError('ChannelData before any STUN message');
    return (4 + length + 3) & ~3;
  }
  throw new StreamFramingError('neither STUN nor ChannelData');
}
