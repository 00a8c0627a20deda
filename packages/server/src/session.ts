import { randomBytes } from 'node:crypto';
import type { FrameId } from '@pinhole/protocol';
import type { Grant } from './auth.js';
import type { OutboundFrame } from './bus/bus.js';
import { BoundedSet } from './bounded-set.js';
import { TokenBucket } from './ratelimit.js';
import type { Downstream, Encoded } from './transports/transport.js';

/** String ids remembered for deduplication (the cluster script's too: lua/lib.lua firstSight). */
export const MAX_STRING_IDS = 1024;
/** Integer ids above `lastId` remembered while a gap is open. */
export const MAX_IDS_ABOVE = 4096;

export function randomId(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

export interface SessionLimits {
  maxReplayFrames: number;
  maxReplayBytes: number;
  ratePerSecond: number;
  rateBurst: number;
}

/**
 * One client's session: its identity, rooms, the numbered frames sent to it and not
 * yet acknowledged (the replay buffer), and the ids of frames it sent (idempotency).
 * Outlives connections: a transport attaches, detaches, another attaches and resumes.
 */
export class Session {
  readonly id = randomId(12);
  readonly key = randomId(18);
  readonly peer = randomId(8);
  readonly rooms = new Set<string>();
  grant: Grant;
  /** Last seq assigned. */
  seq = 0;
  /** When the session lost its transport (ms); undefined while one is attached. */
  detachedAt: number | undefined;
  downstream: Downstream | undefined;
  /** Set once the session has ended; a late transport must not revive it. */
  ended = false;
  readonly bucket: TokenBucket;

  #buffer: Encoded[] = [];
  #head = 0;
  #bufferBytes = 0;
  /** Highest seq handed to a transport: acks beyond it are clamped to it. */
  #sent = 0;
  #lastId = 0;
  readonly #idsAbove = new Set<number>();
  readonly #stringIds = new BoundedSet<string>(MAX_STRING_IDS);

  constructor(
    grant: Grant,
    private readonly limits: SessionLimits,
    now: number,
  ) {
    this.grant = grant;
    this.detachedAt = now;
    this.bucket = new TokenBucket(limits.ratePerSecond, limits.rateBurst, now);
  }

  /** Highest n such that client frames with ids 1..n have all been applied. */
  get lastId(): number {
    return this.#lastId;
  }

  /** Frames sent and not yet acknowledged. */
  get unacked(): number {
    return this.#buffer.length - this.#head;
  }

  get unackedBytes(): number {
    return this.#bufferBytes;
  }

  /**
   * Numbers, encodes and buffers a frame, and writes it if a transport is attached.
   * Returns false when the replay buffer is over its bounds: the caller ends the session.
   */
  // Twin: cluster/lua/lib.lua push.
  push(frame: OutboundFrame): boolean {
    const seq = this.seq + 1;
    // `type` then `seq` lead the JSON (the spread keeps `type` in first place). The seq is
    // taken only once the frame is encoded: a frame that throws here leaves no gap.
    const text = JSON.stringify(Object.assign({ type: frame.type, seq }, frame));
    this.seq = seq;
    const entry: Encoded = { seq, text, bytes: Buffer.byteLength(text) };
    this.#buffer.push(entry);
    this.#bufferBytes += entry.bytes;
    if (this.unacked > this.limits.maxReplayFrames || this.#bufferBytes > this.limits.maxReplayBytes) return false;
    if (this.downstream) {
      this.downstream.write([entry]);
      this.#sent = seq;
    }
    return true;
  }

  /**
   * Cumulative ack: frames with seq ≤ `upTo` are dropped from the replay buffer. A client
   * cannot have frames not sent yet: an ack beyond them is clamped, so it cannot empty the
   * buffer of frames still to come (docs/protocol/hub.md §4.1).
   */
  // Twin: cluster/lua/lib.lua ack.
  ack(upTo: number): void {
    upTo = Math.min(upTo, this.#sent);
    const buffer = this.#buffer;
    let head = this.#head;
    while (head < buffer.length && buffer[head]!.seq <= upTo) {
      this.#bufferBytes -= buffer[head]!.bytes;
      head++;
    }
    // Release acked frames: all at once when nothing is pending (the usual case), else
    // by compacting once they are the larger part of the array.
    if (head === buffer.length) {
      this.#buffer = [];
      head = 0;
    } else if (head > 32 && head * 2 > buffer.length) {
      this.#buffer = buffer.slice(head);
      head = 0;
    }
    this.#head = head;
  }

  /** Buffered frames with seq > `after`, oldest first. */
  // Twin: cluster/lua/ops.lua op 'fetch'.
  framesAfter(after: number): Encoded[] {
    const out: Encoded[] = [];
    for (let i = this.#head; i < this.#buffer.length; i++) {
      const entry = this.#buffer[i]!;
      if (entry.seq > after) out.push(entry);
    }
    return out;
  }

  /**
   * Attaches a transport, closing the one it replaces, and replays what the client
   * has not seen (seq > lastSeq). `before` runs first (the transport writes `welcome`).
   */
  // Twin: cluster/lua/ops.lua op 'attach'.
  attach(downstream: Downstream, lastSeq: number): void {
    const previous = this.downstream;
    this.downstream = downstream;
    this.detachedAt = undefined;
    if (previous && previous !== downstream) previous.close('replaced', 'another connection resumed this session');
    this.ack(lastSeq);
    const replay = this.framesAfter(lastSeq);
    this.#sent = this.seq;
    if (replay.length > 0) downstream.write(replay);
  }

  /** Detaches `downstream` if it is the current one; the grace period starts. */
  // Twin: cluster/lua/ops.lua op 'detach'.
  detach(downstream: Downstream, now: number): void {
    if (this.downstream !== downstream) return;
    this.downstream = undefined;
    this.detachedAt = now;
  }

  /**
   * Records a client frame id. Returns false if a frame with this id was already
   * applied (the frame is a retry and must be ignored).
   */
  // Twin: cluster/lua/lib.lua firstSight.
  firstSight(id: FrameId): boolean {
    if (typeof id === 'string') {
      return this.#stringIds.add(id);
    }
    if (id <= this.#lastId || this.#idsAbove.has(id)) return false;
    if (id === this.#lastId + 1) {
      this.#lastId = id;
    } else {
      this.#idsAbove.add(id);
      if (this.#idsAbove.size > MAX_IDS_ABOVE) {
        // The client skipped ids: close the gap rather than remember without bound.
        this.#lastId = Math.min(...this.#idsAbove);
        this.#idsAbove.delete(this.#lastId);
      }
    }
    while (this.#idsAbove.delete(this.#lastId + 1)) this.#lastId++;
    return true;
  }
}
