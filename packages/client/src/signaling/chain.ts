/**
 * A fallback chain of signalers (e.g. hub → MQTT → manual) behind one Signaler. Rungs are
 * tried in order; a rung is given `connectTimeoutMs` to open and join the rooms, then
 * (unless it is the last) `signalingTimeoutMs` for signaling to complete: some peer's
 * signal reaching us through it. The first rung that completes wins and the chain stays
 * on it; otherwise the chain moves to the next rung and joins every room again there,
 * which rooms see as `rejoined` (members are rebuilt; our peer id changes with the rung).
 *
 * `kind` and `transport` are the active rung's, so connectivity reports name the
 * signaler actually used ('mqtt', 'hub', …).
 */
import type { Json, PeerInfo, PeerMeta } from '@pinhole/protocol';
import { Emitter } from '../emitter.js';
import { HeldEvents } from '../held-events.js';
import type { Signaler, SignalerEvents, SignalerState } from './signaler.js';
import { SignalingError, withTimeout } from './errors.js';
import { DEFAULT_RUNG_CONNECT_TIMEOUT_MS } from '../defaults.js';

export interface ChainRung {
  /** Names the rung in events and errors; default the opened signaler's kind. */
  name?: string;
  /** Creates and opens the rung's signaler (e.g. `() => connectMqtt(url)`). */
  open(): Promise<Signaler>;
  /** Opening the signaler plus joining the rooms; default DEFAULT_RUNG_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /**
   * After joining, how long to wait for a peer's signal through this rung before moving to
   * the next one. Default: no limit. Ignored on the last rung (nowhere else to go).
   */
  signalingTimeoutMs?: number;
}

export interface SignalerChainEvents extends SignalerEvents {
  /** The chain is now on rung `index` (after `reason` on the rung before, if any). */
  rung: { index: number; name: string; kind: string; reason?: string };
  /** Signaling completed on rung `index`: the chain stays on it. */
  settled: { index: number; name: string; kind: string };
  /** A rung failed (the chain moves on) or the active signaler reported an error. */
  error: Error;
}

export class SignalerChain extends Emitter<SignalerChainEvents> implements Signaler {
  readonly #rungs: readonly ChainRung[];
  readonly #rooms = new Map<string, PeerMeta>();
  #index = -1;
  #active: Signaler | undefined;
  #off: (() => void)[] = [];
  #settled = false;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The move in progress (opening a rung and joining there). */
  #moving: Promise<void> | undefined;
  /**
   * During a move: the new rung's events, emitted once every room has its `rejoined`.
   * Members there offer as soon as they see us join; emitted at once, such an offer would
   * reach a room that does not know the sender yet and be dropped.
   */
  readonly #held = new HeldEvents();

  constructor(rungs: readonly ChainRung[]) {
    super();
    if (rungs.length === 0) throw new SignalingError('unsupported', 'a signaler chain needs at least one rung');
    this.#rungs = rungs;
  }

  /** The kind of the active rung's signaler ('hub', 'mqtt', …), 'chain' before one is open. */
  get kind(): string {
    return this.#active?.kind ?? 'chain';
  }

  get transport(): string {
    return this.#active?.transport ?? 'none';
  }

  get oneShot(): boolean {
    return this.#active?.oneShot === true;
  }

  get localId(): string {
    return this.#active?.localId ?? '';
  }

  get state(): SignalerState {
    if (this.#closed) return 'closed';
    return this.#active?.state ?? 'connecting';
  }

  /** The active signaler and its index in the chain. */
  get active(): { index: number; signaler: Signaler } | undefined {
    return this.#active ? { index: this.#index, signaler: this.#active } : undefined;
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Opens the first rung that opens in time; rejects with `connect-failed` if none does. */
  async open(): Promise<this> {
    await this.#moveFrom(0, undefined);
    return this;
  }

  async join(room: string, meta: PeerMeta = {}): Promise<PeerInfo[]> {
    if (this.#closed) throw new SignalingError('closed', 'the signaler chain was closed');
    if (!this.#active) await this.open();
    await this.#moving;
    this.#rooms.set(room, meta);
    const rung = this.#rungs[this.#index]!;
    try {
      const peers = await withTimeout(this.#active!.join(room, meta), rung.connectTimeoutMs ?? DEFAULT_RUNG_CONNECT_TIMEOUT_MS, `joining '${room}' on ${this.#name()}`);
      this.#armSignalingTimer();
      return peers;
    } catch (err) {
      this.emit('error', err instanceof Error ? err : new SignalingError('connect-failed', String(err), { cause: err }));
      if (this.#index + 1 >= this.#rungs.length) {
        this.#rooms.delete(room);
        throw err;
      }
      // The next rung joins every room, this one included; its peers come as 'rejoined' for the others.
      const moved = this.#move(`join failed: ${err instanceof Error ? err.message : String(err)}`, room);
      return moved;
    }
  }

  async leave(room: string): Promise<void> {
    this.#rooms.delete(room);
    await this.#active?.leave(room);
  }

  signal(to: string, data: Json, room?: string): void {
    this.#send().signal(to, data, room);
  }

  broadcast(room: string, data: Json): void {
    this.#send().broadcast(room, data);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const off of this.#off) off();
    await this.#active?.close();
    this.emit('state', 'closed');
  }

  #send(): Signaler {
    if (!this.#active) throw new SignalingError('closed', 'the signaler chain has no open rung');
    return this.#active;
  }

  #name(index = this.#index): string {
    return this.#rungs[index]?.name ?? this.#active?.kind ?? `rung ${index}`;
  }

  #armSignalingTimer(): void {
    const rung = this.#rungs[this.#index]!;
    if (this.#settled || this.#timer || rung.signalingTimeoutMs === undefined || this.#index === this.#rungs.length - 1) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#settled || this.#closed) return;
      void this.#move(`no signaling within ${rung.signalingTimeoutMs} ms`).catch((err: unknown) => this.emit('error', err as Error));
    }, rung.signalingTimeoutMs);
    this.#timer.unref?.();
  }

  /** Leaves the active rung for the next one, joining every room there; resolves with `room`'s peers. */
  async #move(reason: string, room?: string): Promise<PeerInfo[]> {
    const from = this.#index;
    const old = this.#active;
    for (const off of this.#off) off();
    this.#off = [];
    this.#active = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    void old?.close().catch(() => undefined);
    const peers = new Map<string, PeerInfo[]>();
    this.#held.hold();
    try {
      this.#moving = this.#moveFrom(from + 1, reason, peers);
      await this.#moving;
    } catch (err) {
      this.#held.drop();
      throw err;
    }
    for (const [name, list] of peers) if (name !== room) this.emit('rejoined', { room: name, peers: list });
    // `room` itself is still being joined: its Room holds these until the join returns.
    this.#held.release();
    return room === undefined ? [] : (peers.get(room) ?? []);
  }

  /** Opens rung `start` or the first working one after it, and joins the rooms there. */
  async #moveFrom(start: number, reason: string | undefined, peers = new Map<string, PeerInfo[]>()): Promise<void> {
    const failures: string[] = [];
    for (let index = start; index < this.#rungs.length; index++) {
      if (this.#closed) throw new SignalingError('closed', 'the signaler chain was closed');
      const rung = this.#rungs[index]!;
      const timeout = rung.connectTimeoutMs ?? DEFAULT_RUNG_CONNECT_TIMEOUT_MS;
      const opening = rung.open();
      try {
        const signaler = await withTimeout(opening, timeout, `opening ${rung.name ?? `rung ${index}`}`);
        this.#index = index;
        this.#attach(signaler);
        for (const [room, meta] of this.#rooms) {
          peers.set(room, await withTimeout(signaler.join(room, meta), timeout, `joining '${room}' on ${this.#name(index)}`));
        }
        this.emit('rung', { index, name: this.#name(index), kind: signaler.kind, ...(reason === undefined ? {} : { reason }) });
        if (this.#rooms.size > 0) this.#armSignalingTimer();
        return;
      } catch (err) {
        // A signaler that opens after its deadline is closed at once.
        void opening.then((s) => (s === this.#active ? undefined : s.close())).catch(() => undefined);
        const message = err instanceof Error ? err.message : String(err);
        failures.push(`${rung.name ?? `rung ${index}`}: ${message}`);
        if (this.#active) {
          for (const off of this.#off) off();
          this.#off = [];
          void this.#active.close().catch(() => undefined);
          this.#active = undefined;
        }
        this.emit('error', new SignalingError('connect-failed', `${rung.name ?? `rung ${index}`} failed: ${message}`, { cause: err }));
        reason = message;
      }
    }
    throw new SignalingError('connect-failed', `no rung of the signaler chain works: ${failures.join('; ')}`);
  }

  #attach(signaler: Signaler): void {
    this.#active = signaler;
    const forward = <K extends 'peer-joined' | 'peer-left' | 'broadcast' | 'rejoined'>(event: K) =>
      signaler.on(event, (payload) => this.#held.run(() => signaler === this.#active && this.emit(event, payload as SignalerChainEvents[K])));
    this.#off = [
      forward('peer-joined'),
      forward('peer-left'),
      forward('broadcast'),
      forward('rejoined'),
      signaler.on('state', (state) => signaler === this.#active && this.emit('state', state)),
      signaler.on('signal', (payload) => this.#held.run(() => {
        if (signaler !== this.#active) return;
        if (!this.#settled) {
          this.#settled = true;
          clearTimeout(this.#timer);
          this.#timer = undefined;
          this.emit('settled', { index: this.#index, name: this.#name(), kind: signaler.kind });
        }
        this.emit('signal', payload);
      })),
      signaler.on('error', (err) => signaler === this.#active && this.emit('error', err)),
    ];
  }
}
