import { isIPv4 } from 'node:net';
import { bytesToIp, ipToBytes } from '../stun/address.js';

/** The source a per-source limit counts: the IPv4 address, or the /64 of an IPv6 one. */
export function connectionSource(ip: string): string {
  if (isIPv4(ip)) return ip;
  const prefix = Buffer.alloc(16);
  ipToBytes(ip).copy(prefix, 0, 0, 8);
  return `${bytesToIp(prefix)}/64`;
}

/** Counts TCP/TLS connections in total and per source, refusing those over either limit. */
export class ConnectionLimits {
  private total = 0;
  private readonly perSource = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly maxPerSource: number,
  ) {}

  /** Count a new connection from `ip`: its source key, or undefined (not counted) when over a limit. */
  admit(ip: string): string | undefined {
    const source = connectionSource(ip);
    const count = this.perSource.get(source) ?? 0;
    if (this.total >= this.max || count >= this.maxPerSource) return undefined;
    this.total++;
    this.perSource.set(source, count + 1);
    return source;
  }

  /** Forget a connection admitted under `source`. */
  release(source: string): void {
    this.total--;
    const left = (this.perSource.get(source) ?? 1) - 1;
    if (left > 0) this.perSource.set(source, left);
    else this.perSource.delete(source);
  }
}
