import type { TransportAddress } from '../stun/address.js';
import type { FiveTuple } from './five-tuple.js';

/**
 * What the sans-IO core asks the socket layer to do. The core never touches a socket; the
 * node/ layer executes these and feeds results back (relayOpened / relayFailed).
 */
export type TurnAction =
  /** Send bytes to a client over the transport of its 5-tuple. */
  | { readonly type: 'send-to-client'; readonly to: FiveTuple; readonly data: Buffer }
  /** Send a datagram from an allocation's relayed address to a peer. */
  | { readonly type: 'send-to-peer'; readonly allocationId: number; readonly peer: TransportAddress; readonly data: Buffer }
  /**
   * Open the relay socket of a new allocation. `evenPort` asks for an even port (RFC 8656 §14.8);
   * `reserveToken` asks to also hold port+1 under that token; `useReservation` asks to use a
   * port held earlier under that token. Answer with relayOpened or relayFailed.
   */
  | {
      readonly type: 'open-relay';
      readonly allocationId: number;
      readonly family: 4 | 6;
      readonly evenPort: boolean;
      readonly reserveToken?: Buffer;
      readonly useReservation?: Buffer;
    }
  /** Close the relay socket of a deleted allocation. */
  | { readonly type: 'close-relay'; readonly allocationId: number }
  /**
   * Close a TCP/TLS client connection once what was queued for it is sent: its allocation is
   * gone, and the connection must not outlive it (nothing else would ever close it).
   */
  | { readonly type: 'close-client'; readonly to: FiveTuple }
  /** Release a port reserved under a RESERVATION-TOKEN that was never used. */
  | { readonly type: 'release-reservation'; readonly token: Buffer };
