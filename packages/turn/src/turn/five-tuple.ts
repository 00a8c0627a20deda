/** The transport between a client and the server (RFC 8656 §2 "5-tuple"). */
export type ClientTransport = 'udp' | 'tcp' | 'tls';

/**
 * RFC 8656 §2: client IP and port, server IP and port, and the transport protocol. An allocation
 * is identified by the 5-tuple it was created on.
 */
export interface FiveTuple {
  readonly transport: ClientTransport;
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly serverAddress: string;
  readonly serverPort: number;
}

/** A string that is equal for equal 5-tuples, for use as a map key. */
export function fiveTupleKey(t: FiveTuple): string {
  return `${t.transport}|${t.clientAddress}|${t.clientPort}|${t.serverAddress}|${t.serverPort}`;
}

/** Whether the client speaks over a byte stream (ChannelData must then be padded). */
export function isStream(t: FiveTuple): boolean {
  return t.transport !== 'udp';
}
