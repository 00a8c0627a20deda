import { type FiveTuple, fiveTupleKey } from '../turn/five-tuple.js';
import { unmapIpv4 } from './udp.js';

/** A UDP client's 5-tuple and its map key, built once per client instead of once per datagram. */
export interface UdpClient {
  readonly tuple: FiveTuple;
  readonly tupleKey: string;
}

interface Entry extends UdpClient {
  /** rinfo.address as the socket reports it (maybe IPv4-mapped), compared as received. */
  readonly source: string;
}

/**
 * The 5-tuples of the clients of one UDP listener, by source port. A relayed stream sends
 * tens of thousands of datagrams a second from one address and port; rebuilding its 5-tuple
 * and string key for each, and hashing that fresh string in the allocation table, was a
 * measurable share of the relay path. One entry per port keeps the memory bounded (at most
 * 65,536 entries) whatever sources arrive; two clients on the same port with different
 * addresses just take turns in it.
 */
export class UdpClients {
  private readonly byPort = new Map<number, Entry>();

  constructor(
    private readonly serverAddress: string,
    private readonly serverPort: number,
  ) {}

  get(source: string, port: number): UdpClient {
    const known = this.byPort.get(port);
    if (known !== undefined && known.source === source) return known;
    const tuple: FiveTuple = { transport: 'udp', clientAddress: unmapIpv4(source), clientPort: port, serverAddress: this.serverAddress, serverPort: this.serverPort };
    const entry = { source, tuple, tupleKey: fiveTupleKey(tuple) };
    this.byPort.set(port, entry);
    return entry;
  }
}
