/** RFC 8489 §5: fixed value in bytes 4–7 of every STUN message. */
export const MAGIC_COOKIE = 0x2112a442;
/** RFC 8489 §5: the STUN header is 20 bytes. */
export const HEADER_LENGTH = 20;
/** RFC 8489 §5: 96-bit transaction ID. */
export const TRANSACTION_ID_LENGTH = 12;

/** STUN and TURN methods (RFC 8489 §18.2, RFC 8656 §17). */
export const Method = {
  Binding: 0x001,
  Allocate: 0x003,
  Refresh: 0x004,
  Send: 0x006,
  Data: 0x007,
  CreatePermission: 0x008,
  ChannelBind: 0x009,
} as const;
export type MethodCode = number;

/** RFC 8489 §5: the two class bits C1 C0. */
export const MessageClass = {
  Request: 0b00,
  Indication: 0b01,
  SuccessResponse: 0b10,
  ErrorResponse: 0b11,
} as const;
export type MessageClassCode = (typeof MessageClass)[keyof typeof MessageClass];

/**
 * RFC 8489 §5 figure 3: the 12 method bits M11..M0 are interleaved with the class bits C1 (bit 8)
 * and C0 (bit 4) in the 14-bit message type.
 */
export function encodeMessageType(method: MethodCode, cls: MessageClassCode): number {
  return (
    (method & 0x000f) |
    ((method & 0x0070) << 1) |
    ((method & 0x0f80) << 2) |
    ((cls & 0b01) << 4) |
    ((cls & 0b10) << 7)
  );
}

/** Inverse of {@link encodeMessageType}. */
export function decodeMessageType(type: number): { method: MethodCode; cls: MessageClassCode } {
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const cls = (((type & 0x0010) >> 4) | ((type & 0x0100) >> 7)) as MessageClassCode;
  return { method, cls };
}

/** RFC 8656 §14.7: REQUESTED-TRANSPORT protocol number for UDP. */
export const TRANSPORT_UDP = 17;

/** RFC 8489 §14.8 / RFC 8656 §18: error codes with their recommended reason phrases. */
export const ErrorCode = {
  TryAlternate: 300,
  BadRequest: 400,
  Unauthenticated: 401,
  Forbidden: 403,
  UnknownAttribute: 420,
  AllocationMismatch: 437,
  StaleNonce: 438,
  AddressFamilyNotSupported: 440,
  WrongCredentials: 441,
  UnsupportedTransportProtocol: 442,
  PeerAddressFamilyMismatch: 443,
  AllocationQuotaReached: 486,
  ServerError: 500,
  InsufficientCapacity: 508,
} as const;

const REASONS: Record<number, string> = {
  300: 'Try Alternate',
  400: 'Bad Request',
  401: 'Unauthenticated',
  403: 'Forbidden',
  420: 'Unknown Attribute',
  437: 'Allocation Mismatch',
  438: 'Stale Nonce',
  440: 'Address Family not Supported',
  441: 'Wrong Credentials',
  442: 'Unsupported Transport Protocol',
  443: 'Peer Address Family Mismatch',
  486: 'Allocation Quota Reached',
  500: 'Server Error',
  508: 'Insufficient Capacity',
};

/** The reason phrase the RFCs recommend for `code`. */
export function reasonPhrase(code: number): string {
  return REASONS[code] ?? 'Error';
}
