import type { TransportName } from './transports/transport.js';

/** Open client connections, per IP (for the per-IP limit) and per transport (for metrics). */
export class ConnectionTracker {
  readonly #byIp = new Map<string, number>();
  readonly byTransport: Record<TransportName, number> = { ws: 0, sse: 0, poll: 0 };

  constructor(private readonly maxPerIp: number) {}

  /** Counts a new connection; false (and nothing counted) when the IP is at its limit. */
  open(ip: string, transport: TransportName): boolean {
    const n = this.#byIp.get(ip) ?? 0;
    if (n >= this.maxPerIp) return false;
    this.#byIp.set(ip, n + 1);
    this.byTransport[transport]++;
    return true;
  }

  close(ip: string, transport: TransportName): void {
    const n = this.#byIp.get(ip) ?? 0;
    if (n <= 1) this.#byIp.delete(ip);
    else this.#byIp.set(ip, n - 1);
    this.byTransport[transport]--;
  }
}
