/** RFC 8489 §14.7: the CRC-32 is XORed with this ("STUN") so it differs from other CRCs in the packet. */
export const FINGERPRINT_XOR = 0x5354554e;

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as in ISO/IEC 13239 / ITU-T V.42 (the zlib/Ethernet polynomial). */
export function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = (TABLE[(crc ^ (data[i] ?? 0)) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The FINGERPRINT value for the message bytes that precede the attribute (RFC 8489 §14.7). */
export function fingerprintOf(precedingBytes: Uint8Array): number {
  return (crc32(precedingBytes) ^ FINGERPRINT_XOR) >>> 0;
}
