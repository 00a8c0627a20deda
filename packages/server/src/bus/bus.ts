import type { SequencedFrame } from '@pinhole/protocol';

/** A hub→client frame before the target session numbers it. */
export type OutboundFrame = SequencedFrame extends infer F ? (F extends SequencedFrame ? Omit<F, 'seq'> : never) : never;

/**
 * Delivery between sessions inside the one-process core (`Hub`). A hub never calls a
 * session object directly to deliver a frame from another session: it publishes to the
 * target peer id, and whoever hosts that peer hands it over. (Several nodes do not share
 * a Bus: they share the whole session state in Redis, see `cluster/`.)
 *
 * Guarantee required of every implementation: frames published to one peer arrive in
 * publish order.
 */
export interface Bus {
  /** Receive frames addressed to `peer` on this node. Returns the unsubscribe. */
  subscribe(peer: string, deliver: (frame: OutboundFrame) => void): () => void;
  /** Send a frame to `peer`, wherever it lives. Frames to an unknown peer are dropped. */
  publish(peer: string, frame: OutboundFrame): void;
  close(): Promise<void>;
}
