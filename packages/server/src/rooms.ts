import type { PeerInfo } from '@pinhole/protocol';

/**
 * Room membership (presence). Writes are async so a shared store (Redis) can make
 * them atomic across nodes; reads are a synchronous local view, because they sit on
 * the relay hot path (every `signal` checks that sender and target share a room).
 */
export interface RoomStore {
  /** Adds `member` unless the room already holds `maxPeers`; returns the others present. */
  join(room: string, member: PeerInfo, maxPeers: number): Promise<PeerInfo[] | 'full'>;
  /** Removes `peer`; false if it was not there. Empty rooms disappear. */
  leave(room: string, peer: string): Promise<boolean>;
  has(room: string, peer: string): boolean;
  members(room: string): PeerInfo[];
  roomCount(): number;
  close(): Promise<void>;
}

export class MemoryRoomStore implements RoomStore {
  readonly #rooms = new Map<string, Map<string, PeerInfo>>();

  async join(room: string, member: PeerInfo, maxPeers: number): Promise<PeerInfo[] | 'full'> {
    let peers = this.#rooms.get(room);
    if (!peers) {
      peers = new Map();
      this.#rooms.set(room, peers);
    }
    const others = [...peers.values()].filter((p) => p.peer !== member.peer);
    if (!peers.has(member.peer) && peers.size >= maxPeers) return 'full';
    peers.set(member.peer, member);
    return others;
  }

  async leave(room: string, peer: string): Promise<boolean> {
    const peers = this.#rooms.get(room);
    if (!peers?.delete(peer)) return false;
    if (peers.size === 0) this.#rooms.delete(room);
    return true;
  }

  has(room: string, peer: string): boolean {
    return this.#rooms.get(room)?.has(peer) ?? false;
  }

  // Twin: cluster/lua/lib.lua peersJson, ops.lua op 'peers'.
  members(room: string): PeerInfo[] {
    return [...(this.#rooms.get(room)?.values() ?? [])];
  }

  roomCount(): number {
    return this.#rooms.size;
  }

  async close(): Promise<void> {
    this.#rooms.clear();
  }
}
