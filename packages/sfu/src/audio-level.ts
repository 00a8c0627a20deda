/**
 * The audio level a sender puts in each audio packet (RFC 6464, "client-to-mixer" header
 * extension `urn:ietf:params:rtp-hdrext:ssrc-audio-level`): one byte, V (voice activity) and
 * the level in -dBov, 0 (loudest) to 127 (silence). Read from raw RTP in either header
 * extension form (RFC 8285: one-byte 0xBEDE, two-byte 0x100X), without parsing the rest.
 */
export const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

export interface AudioLevel {
  /** -dBov: 0 is the loudest, 127 silence. */
  level: number;
  /** The sender's voice-activity flag (absent senders set it to 0). */
  voice: boolean;
}

/** The audio level in `packet`'s header extension element `id`, or undefined without one. */
export function readAudioLevel(packet: Uint8Array, id: number): AudioLevel | undefined {
  if (packet.length < 12 || !(packet[0]! & 0x10)) return undefined;
  let offset = 12 + 4 * (packet[0]! & 0x0f);
  if (offset + 4 > packet.length) return undefined;
  const profile = (packet[offset]! << 8) | packet[offset + 1]!;
  const end = offset + 4 + 4 * ((packet[offset + 2]! << 8) | packet[offset + 3]!);
  if (end > packet.length) return undefined;
  offset += 4;
  const oneByte = profile === 0xbede;
  if (!oneByte && (profile & 0xfff0) !== 0x1000) return undefined;
  while (offset < end) {
    const first = packet[offset]!;
    if (first === 0) {
      offset++; // padding
      continue;
    }
    let elementId: number;
    let length: number;
    if (oneByte) {
      elementId = first >> 4;
      if (elementId === 15) return undefined; // reserved: stop (RFC 8285 §4.2)
      length = (first & 0x0f) + 1;
      offset += 1;
    } else {
      if (offset + 1 >= end) return undefined;
      elementId = first;
      length = packet[offset + 1]!;
      offset += 2;
    }
    if (offset + length > end) return undefined;
    if (elementId === id && length >= 1) {
      const byte = packet[offset]!;
      return { level: byte & 0x7f, voice: (byte & 0x80) !== 0 };
    }
    offset += length;
  }
  return undefined;
}
