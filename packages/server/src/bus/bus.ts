import type { SequencedFrame } from '@pinhole/protocol';

/** A hub→client frame before the target session numbers it. */
export type OutboundFrame = SequencedFrame extends infer F ? (F extends SequencedFrame ? Omit<F, 'seq'> : never) : never;

/**
 * Delivery between sessions. A hub never calls a session object directly to deliver a
 * frame from another session: it publishes to the target peer id, and the node that
 * hosts that peer (this process, or another one on a shared bus) hands it over.
 *
 * Guarantee required of every implementation: frames published by one node to one
 * peer arrive in publish order.
 */
export interface Bus {
  /** Receive frames addressed to `peer` on this node. Returns the unsubscribe. */
  subscribe(peer: string, deliver: (frame: OutboundFrame) => void): () => void;
  /** Send a frame to `peer`, wherever it lives. Frames to an unknown peer are dropped. */
  publish(peer: string, frame: OutboundFrame): void;
  close(): Promise<void>;
}
