/**
 * The connections attached to this node and the frames Redis announces for them. The
 * cluster script numbers a session's frames and publishes each one to the node holding
 * the session's connection, in seq order; this side writes them, drops what the
 * connection already has, and fills any gap (a message lost while the subscription was
 * down) from the session's replay buffer in Redis. Result: every frame exactly once, in
 * order, on whichever node the client is.
 */
import type { Logger } from 'pino';
import { OVERFLOW_MESSAGE, type Downstream, type Encoded } from '../transports/transport.js';

/** Reads a session's buffered frames after `after`; `undefined` when the session is gone. */
export type FetchFrames = (session: string, after: number) => Promise<{ seq: number; frames: string[] } | undefined>;

/** For pinhole_frames_out_total and pinhole_errors_total. */
export interface DeliveryCounts {
  /** Sequenced frames handed to connections here. */
  written(frames: number): void;
  /** A connection here was told that its session overflowed. */
  overflowed(): void;
}

interface Attachment {
  readonly session: string;
  readonly downstream: Downstream;
  /** This attachment's id in Redis: a detach or replacement names it. */
  readonly conn: string;
  /** Next seq to write. */
  next: number;
  /** While true, announced frames wait in `pending` (replay or catch-up under way). */
  syncing: boolean;
  pending: Encoded[];
}

// `bytes` is the UTF-8 size (as session.ts counts it): SSE frames its chunks by it, so a count
// of UTF-16 units cut multi-byte streams short (test/stream-framing.test.ts, Redis core, sse).
const entry = (seq: number, text: string): Encoded => ({ seq, text, bytes: Buffer.byteLength(text) });

/** Encodes the frames of a replay: the buffer holds seq `last - n + 1 … last`. */
function numbered(last: number, frames: string[]): Encoded[] {
  const first = last - frames.length + 1;
  return frames.map((text, i) => entry(first + i, text));
}

export class Delivery {
  readonly #attached = new Map<string, Attachment>();

  constructor(
    private readonly fetch: FetchFrames,
    private readonly logger: Logger,
    private readonly counts: DeliveryCounts,
  ) {}

  get size(): number {
    return this.#attached.size;
  }

  /** The connection of `session` here, if any. */
  downstream(session: string): Downstream | undefined {
    return this.#attached.get(session)?.downstream;
  }

  /** Starts an attachment; frames announced from now on wait until `replay` runs. */
  begin(session: string, downstream: Downstream, conn: string): void {
    const previous = this.#attached.get(session);
    if (previous && previous.downstream !== downstream) previous.downstream.close('replaced', 'another connection resumed this session');
    this.#attached.set(session, { session, downstream, conn, next: 0, syncing: true, pending: [] });
  }

  /** The attach went through: writes the replay, then what was announced meanwhile. */
  replay(session: string, conn: string, seq: number, frames: string[]): void {
    const a = this.#current(session, conn);
    if (!a) return;
    if (frames.length > 0) this.#write(a, numbered(seq, frames));
    a.next = seq + 1;
    this.#drain(a);
  }

  /** Removes the attachment of `downstream`; returns its conn id if it was the current one. */
  end(session: string, downstream: Downstream): string | undefined {
    const a = this.#attached.get(session);
    if (a?.downstream !== downstream) return undefined;
    this.#attached.delete(session);
    return a.conn;
  }

  /** Closes a connection here (replaced elsewhere, session ended, store failure). */
  close(session: string, conn: string | undefined, code?: 'replaced' | 'overflow', message?: string): void {
    const a = this.#attached.get(session);
    if (!a || (conn !== undefined && a.conn !== conn)) return;
    this.#attached.delete(session);
    if (code === 'overflow') this.counts.overflowed();
    a.downstream.close(code, message);
  }

  /** Handles one message of this node's channel (see script.ts). */
  message(text: string): void {
    const kind = text.charCodeAt(0);
    const s1 = text.indexOf(' ', 2);
    const session = text.slice(2, s1);
    const a = this.#attached.get(session);
    if (!a) return;
    const rest = text.slice(s1 + 1);
    switch (kind) {
      case 0x66 /* f */: {
        const s2 = rest.indexOf(' ');
        this.#announced(a, entry(Number(rest.slice(0, s2)), rest.slice(s2 + 1)));
        return;
      }
      case 0x6c /* l */:
        a.downstream.writeLoose(rest);
        return;
      case 0x78 /* x */:
        this.close(session, rest, 'replaced', 'another connection resumed this session');
        return;
      case 0x65 /* e */:
        if (rest === 'overflow') this.close(session, undefined, 'overflow', OVERFLOW_MESSAGE);
        else this.close(session, undefined);
        return;
    }
  }

  /** After the subscription was down: catch every connection up from Redis. */
  resyncAll(): void {
    for (const a of this.#attached.values()) if (!a.syncing) this.#resync(a);
  }

  closeAll(): void {
    for (const a of [...this.#attached.values()]) this.close(a.session, a.conn);
  }

  #current(session: string, conn: string): Attachment | undefined {
    const a = this.#attached.get(session);
    return a?.conn === conn ? a : undefined;
  }

  #announced(a: Attachment, frame: Encoded): void {
    if (a.syncing) {
      a.pending.push(frame);
    } else if (frame.seq === a.next) {
      this.#write(a, [frame]);
      a.next++;
    } else if (frame.seq > a.next) {
      // A message was lost (the subscription dropped): read the gap from the buffer.
      a.pending.push(frame);
      this.#resync(a);
    }
  }

  #drain(a: Attachment): void {
    const pending = a.pending.sort((x, y) => x.seq - y.seq);
    a.pending = [];
    a.syncing = false;
    for (let i = 0; i < pending.length; i++) {
      const frame = pending[i]!;
      if (frame.seq < a.next) continue;
      if (frame.seq > a.next) {
        a.pending = pending.slice(i);
        this.#resync(a);
        return;
      }
      this.#write(a, [frame]);
      a.next++;
    }
  }

  #write(a: Attachment, frames: Encoded[]): void {
    a.downstream.write(frames);
    this.counts.written(frames.length);
  }

  #resync(a: Attachment): void {
    a.syncing = true;
    this.fetch(a.session, a.next - 1).then(
      (found) => {
        if (this.#current(a.session, a.conn) !== a) return;
        if (!found) return this.close(a.session, a.conn);
        const fresh = numbered(found.seq, found.frames).filter((f) => f.seq >= a.next);
        if (fresh.length > 0) {
          this.#write(a, fresh);
          a.next = fresh[fresh.length - 1]!.seq + 1;
        }
        this.#drain(a);
      },
      (err: unknown) => {
        // Redis is away: drop the connection; the client resumes once it is back.
        this.logger.warn({ err: (err as Error).message, session: a.session }, 'catching up a connection failed; closing it');
        this.close(a.session, a.conn);
      },
    );
  }
}
