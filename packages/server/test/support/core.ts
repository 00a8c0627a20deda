/**
 * The memory core (`Hub`) driven through its seam with no socket: a recording
 * downstream stands where a transport would, and the clock is injected, so grace
 * periods, overflow, rate limits and resume rules run in simulated time.
 */
import { pino } from 'pino';
import type { ClientFrame, ErrorCode, HelloFrame, ServerFrame, WelcomeFrame } from '@pinhole/protocol';
import { resolveOptions, type HubOptions } from '../../src/index.js';
import { MemoryBus } from '../../src/bus/memory.js';
import { MemoryRoomStore } from '../../src/rooms.js';
import { splitOptions } from '../../src/server.js';
import { Hub } from '../../src/hub.js';
import { createMetrics } from '../../src/metrics.js';
import type { Session } from '../../src/session.js';
import type { Downstream, Encoded, TransportName } from '../../src/transports/transport.js';

/** Any fixed instant: the tests only look at differences. */
export const T0 = 1_700_000_000_000;

type FrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

/** A transport's place, recording what the hub writes to it. */
export class RecordingDownstream implements Downstream {
  readonly name: TransportName = 'ws';
  /** Sequenced frames, in the order written. */
  readonly frames: ServerFrame[] = [];
  /** Loose frames (`pong`, a closing error). */
  readonly loose: ServerFrame[] = [];
  closed: { code: ErrorCode | undefined; message: string | undefined } | undefined;

  write(frames: readonly Encoded[]): void {
    if (this.closed) throw new Error('the hub wrote to a closed downstream');
    for (const frame of frames) this.frames.push(JSON.parse(frame.text) as ServerFrame);
  }

  writeLoose(text: string): void {
    this.loose.push(JSON.parse(text) as ServerFrame);
  }

  close(code?: ErrorCode, message?: string): void {
    this.closed = { code, message };
  }
}

export type CoreHarness = ReturnType<typeof makeCore>;

/** A memory core on a fake clock, quiet logs. */
export function makeCore(options: HubOptions = {}) {
  let now = T0;
  const { limits, access, deps } = splitOptions(resolveOptions({ logger: pino({ level: 'silent' }), ...options, now: () => now }));
  const metrics = createMetrics(() => ({ connections: () => ({ ws: 0, sse: 0, poll: 0 }), stats: () => hub.stats() }));
  const hub: Hub = new Hub({ limits, access }, { logger: deps.logger, now: deps.now, metrics, bus: new MemoryBus(), rooms: new MemoryRoomStore() });
  const harness = {
    hub,
    now: () => now,
    /** Moves the clock, then runs the periodic sweep as the server's interval would. */
    advance(ms: number): void {
      now += ms;
      hub.sweep();
    },
    /** A new session with a downstream attached, as a transport opens one. */
    async connect(hello: Omit<HelloFrame, 'type'> = {}): Promise<CoreClient> {
      const client = new CoreClient(harness);
      await client.hello(hello);
      return client;
    },
  };
  return harness;
}

/** One client of the core: its session, its downstreams (one per connection), its frame ids. */
export class CoreClient {
  session!: Session;
  welcome!: WelcomeFrame;
  down = new RecordingDownstream();
  /** Every downstream this client had, oldest first. */
  readonly downs: RecordingDownstream[] = [];
  #nextId = 1;

  constructor(readonly h: CoreHarness) {}

  get peer(): string {
    return this.session.peer;
  }

  /** Sequenced frames received over every connection, deduplicated by seq (as a client keeps them). */
  get received(): ServerFrame[] {
    const bySeq = new Map<number, ServerFrame>();
    for (const down of this.downs) for (const f of down.frames) if ('seq' in f && typeof f.seq === 'number') bySeq.set(f.seq, f);
    return [...bySeq.entries()].sort(([a], [b]) => a - b).map(([, f]) => f);
  }

  get lastSeq(): number {
    const last = this.received.at(-1);
    return (last && 'seq' in last ? last.seq : undefined) ?? 0;
  }

  of<T extends ServerFrame['type']>(type: T): FrameOf<T>[] {
    return this.received.filter((f): f is FrameOf<T> => f.type === type);
  }

  /** The hello, then a fresh downstream attached after the welcome (as the transports do). Throws ProtocolError. */
  async hello(fields: Omit<HelloFrame, 'type'> = {}): Promise<WelcomeFrame> {
    const frame: HelloFrame = { type: 'hello', ...fields };
    const { session, resumed } = await this.h.hub.hello(frame);
    this.session = session;
    this.welcome = this.h.hub.welcome(session, resumed, frame.id);
    this.down = new RecordingDownstream();
    this.downs.push(this.down);
    session.attach(this.down, resumed ? frame.resume!.lastSeq : 0);
    return this.welcome;
  }

  /** Resumes this client's session on a new connection from `lastSeq`. Throws ProtocolError. */
  resume(lastSeq = this.lastSeq, fields: Omit<HelloFrame, 'type' | 'resume'> = {}): Promise<WelcomeFrame> {
    return this.hello({ ...fields, resume: { session: this.session.id, key: this.session.key, lastSeq } });
  }

  /** Loses the connection: the grace period starts now. */
  drop(): void {
    this.session.detach(this.down, this.h.now());
  }

  /** Sends a frame with the next integer id (unless it has one); returns the id used. */
  send(frame: DistributiveOmit<Exclude<ClientFrame, HelloFrame>, 'id'> & { id?: number | string }): number | string {
    const id = frame.id ?? this.#nextId++;
    this.h.hub.receive(this.session, { ...frame, id } as ClientFrame);
    return id;
  }

  /** Sends a frame and waits until the core has applied it (joins and leaves are async). */
  async apply(frame: Parameters<CoreClient['send']>[0]): Promise<number | string> {
    const id = this.send(frame);
    await this.h.hub.settled(this.session);
    return id;
  }

  async join(room: string, meta: Record<string, string> = {}): Promise<FrameOf<'joined'>> {
    const id = await this.apply({ type: 'join', room, meta });
    const answer = this.received.find((f) => 'ref' in f && f.ref === id);
    if (answer?.type !== 'joined') throw new Error(`join ${room}: ${JSON.stringify(answer)}`);
    return answer;
  }

  /** The error answering frame `id`, if any. */
  errorFor(id: number | string): FrameOf<'error'> | undefined {
    return this.of('error').find((f) => f.ref === id);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
