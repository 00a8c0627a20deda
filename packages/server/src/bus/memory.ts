import type { Bus, OutboundFrame } from './bus.js';

/** Single-process bus: synchronous hand-over, which keeps publish order trivially. */
export class MemoryBus implements Bus {
  readonly #peers = new Map<string, (frame: OutboundFrame) => void>();

  subscribe(peer: string, deliver: (frame: OutboundFrame) => void): () => void {
    this.#peers.set(peer, deliver);
    return () => {
      if (this.#peers.get(peer) === deliver) this.#peers.delete(peer);
    };
  }

  publish(peer: string, frame: OutboundFrame): void {
    this.#peers.get(peer)?.(frame);
  }

  async close(): Promise<void> {
    this.#peers.clear();
  }
}
