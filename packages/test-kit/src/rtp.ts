/** Synthetic RTP for the unit tests: the fixed header (RFC 3550 §5.1), optional one-byte extension, payload. */
export interface PacketInit {
  ssrc: number;
  seq: number;
  ts: number;
  pt?: number;
  marker?: boolean;
  payload?: Buffer;
  /** Adds a one-byte-header extension block (RFC 8285) with one element, as Chromium's mid/rid. */
  extension?: boolean;
  /** Adds an RFC 6464 audio level (-dBov, 0–127) as one-byte-header extension element `id`. */
  audioLevel?: { id: number; level: number };
}

export function rtp({ ssrc, seq, ts, pt = 96, marker = false, payload = Buffer.from([0x10, 0, 0, 0]), extension = false, audioLevel }: PacketInit): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80 | (extension || audioLevel ? 0x10 : 0);
  header[1] = (marker ? 0x80 : 0) | pt;
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE(ts >>> 0, 4);
  header.writeUInt32BE(ssrc >>> 0, 8);
  const ext = audioLevel
    ? Buffer.from([0xbe, 0xde, 0x00, 0x01, audioLevel.id << 4, (audioLevel.level < 127 ? 0x80 : 0) | audioLevel.level, 0x00, 0x00])
    : extension
      ? Buffer.from([0xbe, 0xde, 0x00, 0x01, 0x10, 0x71, 0x00, 0x00])
      : Buffer.alloc(0);
  return Buffer.concat([header, ext, payload]);
}

/** VP8 payload descriptor (RFC 7741 §4.2) + first payload header byte: S=1, PID=0; P bit 0 = key frame. */
export const vp8Key = (): Buffer => Buffer.from([0x10, 0x00, 0x9d, 0x01, 0x2a]);
export const vp8Delta = (): Buffer => Buffer.from([0x10, 0x01, 0x00, 0x00]);
/** A continuation packet of a key frame (S=0): not a start. */
export const vp8KeyContinuation = (): Buffer => Buffer.from([0x00, 0x00, 0x9d, 0x01]);
/** With the extended descriptor: X=1, I=1 with a 15-bit picture ID (M=1), then the payload header. */
export const vp8KeyExtended = (): Buffer => Buffer.from([0x90, 0x80, 0x80 | 0x12, 0x34, 0x00, 0x9d]);
