/**
 * Counters and gauges of a TURN server, as a plain object (the hub maps them to Prometheus).
 * Counters only grow; gauges are the value at the time of the call.
 */
export interface TurnStats {
  /** Gauge: allocations (pending ones included). */
  allocations: number;
  /** Gauge: live permissions over all allocations. */
  permissions: number;
  /** Gauge: live channel bindings over all allocations. */
  channels: number;
  /** Gauge: open TCP/TLS client connections (filled in by the socket layer). */
  connections: number;
  /** Counter: allocations that became active. */
  allocationsCreated: number;
  /** Counter: datagrams and payload bytes relayed client → peer. */
  packetsToPeers: number;
  bytesToPeers: number;
  /** Counter: datagrams and payload bytes relayed peer → client. */
  packetsFromPeers: number;
  bytesFromPeers: number;
  /** Counter: datagrams dropped by the per-allocation bandwidth cap. */
  droppedBandwidth: number;
  /** Counter: datagrams dropped for lack of a permission or channel. */
  droppedNoPermission: number;
  /** Counter: requests with wrong, unknown or expired credentials (not first challenges). */
  authFailures: number;
  /** Counter: peer addresses refused by the peer filter (403, or a dropped Send). */
  refusedPeers: number;
  /** Counter: Allocate requests refused with 486. */
  quotaRejections: number;
  /** Counter: TCP/TLS connections closed on arrival for being over a connection limit. */
  refusedConnections: number;
  /** Counter: packets that were neither valid STUN nor valid ChannelData. */
  malformedPackets: number;
  /** Counter: error responses sent, by wire code. */
  errorResponses: Record<number, number>;
}

/** @internal */
export function emptyStats(): TurnStats {
  return {
    allocations: 0,
    permissions: 0,
    channels: 0,
    connections: 0,
    allocationsCreated: 0,
    packetsToPeers: 0,
    bytesToPeers: 0,
    packetsFromPeers: 0,
    bytesFromPeers: 0,
    droppedBandwidth: 0,
    droppedNoPermission: 0,
    authFailures: 0,
    refusedPeers: 0,
    quotaRejections: 0,
    refusedConnections: 0,
    malformedPackets: 0,
    errorResponses: {},
  };
}
