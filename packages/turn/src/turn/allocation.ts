import { CHANNEL_BINDING_LIFETIME_S, CHANNEL_REBIND_COOLDOWN_S, PERMISSION_LIFETIME_S } from '../defaults.js';
import type { TransportAddress } from '../stun/address.js';
import type { FiveTuple } from './five-tuple.js';
import type { TokenBucket } from './token-bucket.js';

/** RFC 8656 §12: a channel number bound to one peer transport address. */
export interface ChannelBinding {
  readonly channel: number;
  readonly peer: TransportAddress;
  readonly peerKey: string;
  expiresAt: number;
}

/** Key of a peer transport address (IP must already be canonical). */
export function peerKey(peer: { address: string; port: number }): string {
  return `${peer.address}|${peer.port}`;
}

/** How an allocation was authenticated; its requests must keep using this username (441). */
export interface AllocationOwner {
  readonly username: string;
  /** Quota bucket: the identity of a REST credential, or the static username. */
  readonly quotaKey: string;
}

/**
 * RFC 8656 §3 / §6: an allocation on the server, with its relayed transport address, lifetime,
 * permissions (§9) and channel bindings (§12). Times are milliseconds of the injected clock.
 */
export class Allocation {
  /** 'pending' until the socket layer reports the relay socket open. */
  state: 'pending' | 'active' = 'pending';
  relayAddress: TransportAddress | undefined;
  /** The success response, resent when the Allocate request is retransmitted (RFC 8656 §7.2). */
  cachedResponse: Buffer | undefined;
  private readonly permissions = new Map<string, number>();
  private readonly channelsByNumber = new Map<number, ChannelBinding>();
  private readonly channelsByPeer = new Map<string, ChannelBinding>();

  constructor(
    readonly id: number,
    readonly fiveTuple: FiveTuple,
    readonly tupleKey: string,
    readonly owner: AllocationOwner,
    readonly family: 4 | 6,
    readonly createTransactionId: Buffer,
    public expiresAt: number,
    readonly bucket: TokenBucket | undefined,
  ) {}

  /** RFC 8656 §9: permissions match on the peer IP only, never the port. */
  hasPermission(ip: string, now: number): boolean {
    const expiresAt = this.permissions.get(ip);
    return expiresAt !== undefined && now < expiresAt;
  }

  /** Install or refresh the permission for `ip` (PERMISSION_LIFETIME_S). */
  installPermission(ip: string, now: number): void {
    this.permissions.set(ip, now + PERMISSION_LIFETIME_S * 1000);
  }

  /** The live binding of `channel`, if any. */
  channelByNumber(channel: number, now: number): ChannelBinding | undefined {
    const binding = this.channelsByNumber.get(channel);
    return binding && now < binding.expiresAt ? binding : undefined;
  }

  /** The live binding of a peer transport address, if any. */
  channelByPeer(key: string, now: number): ChannelBinding | undefined {
    const binding = this.channelsByPeer.get(key);
    return binding && now < binding.expiresAt ? binding : undefined;
  }

  /**
   * RFC 8656 §12.2: the request fails if the channel is bound (or cooling down) to another peer,
   * or the peer is bound to another channel. Rebinding the same pair refreshes it.
   */
  canBind(channel: number, key: string): boolean {
    const byNumber = this.channelsByNumber.get(channel);
    if (byNumber && byNumber.peerKey !== key) return false;
    const byPeer = this.channelsByPeer.get(key);
    return !byPeer || byPeer.channel === channel;
  }

  /** Bind or refresh (CHANNEL_BINDING_LIFETIME_S); also refreshes the peer's permission. */
  bind(channel: number, peer: TransportAddress, now: number): void {
    const key = peerKey(peer);
    const existing = this.channelsByNumber.get(channel);
    const expiresAt = now + CHANNEL_BINDING_LIFETIME_S * 1000;
    if (existing) existing.expiresAt = expiresAt;
    else {
      const binding: ChannelBinding = { channel, peer, peerKey: key, expiresAt };
      this.channelsByNumber.set(channel, binding);
      this.channelsByPeer.set(key, binding);
    }
    this.installPermission(peer.address, now);
  }

  /** Drop expired permissions, and channel bindings past their rebind cooldown. */
  expire(now: number): void {
    for (const [ip, expiresAt] of this.permissions) if (now >= expiresAt) this.permissions.delete(ip);
    const cooldown = CHANNEL_REBIND_COOLDOWN_S * 1000;
    for (const [channel, binding] of this.channelsByNumber) {
      if (now >= binding.expiresAt + cooldown) {
        this.channelsByNumber.delete(channel);
        this.channelsByPeer.delete(binding.peerKey);
      }
    }
  }

  permissionCount(now: number): number {
    let n = 0;
    for (const expiresAt of this.permissions.values()) if (now < expiresAt) n++;
    return n;
  }

  channelCount(now: number): number {
    let n = 0;
    for (const binding of this.channelsByNumber.values()) if (now < binding.expiresAt) n++;
    return n;
  }
}
