import type { Socket } from 'node:dgram';
import { RELAY_BIND_ATTEMPTS } from '../defaults.js';
import { bindUdp, closeUdp } from './udp.js';

/** An open relay socket and its port. */
export interface RelaySocket {
  readonly socket: Socket;
  readonly port: number;
}

/**
 * Relay UDP sockets bound to random ports in [minPort, maxPort] (RFC 8656 §7.2 suggests
 * random allocation), with EVEN-PORT and RESERVATION-TOKEN support: port+1 can be held under a
 * token and handed to a later Allocate (RFC 8656 §14.8–14.9).
 */
export class RelayPortPool {
  private readonly inUse = new Set<number>();
  private readonly reservations = new Map<string, RelaySocket>();

  constructor(
    private readonly family: 4 | 6,
    private readonly bindIp: string,
    private readonly minPort: number,
    private readonly maxPort: number,
  ) {}

  /** Open a relay socket; with `reserveToken`, also hold port+1 (the first port is then even). */
  async open(evenPort: boolean, reserveToken: Buffer | undefined): Promise<RelaySocket & { reserved: boolean }> {
    const wantEven = evenPort || reserveToken !== undefined;
    for (let attempt = 0; attempt < RELAY_BIND_ATTEMPTS; attempt++) {
      const port = this.randomPort(wantEven, reserveToken !== undefined);
      if (port === undefined) break;
      const first = await this.tryBind(port);
      if (!first) continue;
      if (!reserveToken) return { ...first, reserved: false };
      const second = await this.tryBind(port + 1);
      if (second) {
        this.reservations.set(reserveToken.toString('hex'), second);
        return { ...first, reserved: true };
      }
      await this.close(first);
    }
    throw new Error(`no free relay port in ${this.minPort}-${this.maxPort}`);
  }

  /** Take the socket held under `token` (consumed once). */
  take(token: Buffer): RelaySocket | undefined {
    const key = token.toString('hex');
    const relay = this.reservations.get(key);
    this.reservations.delete(key);
    return relay;
  }

  async release(token: Buffer): Promise<void> {
    const relay = this.take(token);
    if (relay) await this.close(relay);
  }

  async close(relay: RelaySocket): Promise<void> {
    this.inUse.delete(relay.port);
    await closeUdp(relay.socket);
  }

  async closeAll(): Promise<void> {
    const held = [...this.reservations.values()];
    this.reservations.clear();
    await Promise.all(held.map((r) => this.close(r)));
  }

  private async tryBind(port: number): Promise<RelaySocket | undefined> {
    if (this.inUse.has(port)) return undefined;
    this.inUse.add(port);
    try {
      return { socket: await bindUdp(this.family, this.bindIp, port), port };
    } catch {
      this.inUse.delete(port);
      return undefined;
    }
  }

  private randomPort(even: boolean, needNext: boolean): number | undefined {
    const max = needNext ? this.maxPort - 1 : this.maxPort;
    let low = this.minPort;
    if (even && low % 2 === 1) low++;
    if (low > max) return undefined;
    const step = even ? 2 : 1;
    const slots = Math.floor((max - low) / step) + 1;
    return low + Math.floor(Math.random() * slots) * step;
  }
}
