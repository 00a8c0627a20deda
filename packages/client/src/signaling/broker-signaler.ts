/**
 * What the MQTT and Redis signalers share: members per room, presence expiry, `n`
 * sequence numbers on outgoing messages and the in-order, at-most-once check on incoming
 * ones, and turning bad broker messages into `error` events. Subclasses only move bytes
 * (publish, subscribe) and decide how presence is announced.
 * @internal
 */
import type { Json, PeerInfo, PeerMeta } from '@pinhole/protocol';
import { Emitter } from '../emitter.js';
import type { Signaler, SignalerEvents, SignalerState } from './signaler.js';
import { SignalingError } from './errors.js';
import { decodeMessage, randomPeerId, type BrokerMessage, type DataMessage } from './broker-wire.js';

export interface BrokerSignalerEvents extends SignalerEvents {
  /** A broker message was malformed (dropped), or a send could not be made. The signaler goes on. */
  error: SignalingError;
}

interface Member {
  meta: PeerMeta;
  expiry?: ReturnType<typeof setTimeout>;
}

/** @internal */
export interface JoinedRoom {
  meta: PeerMeta;
  /** True until join() resolves: presences seen meanwhile go into its result, not into events. */
  joining: boolean;
  members: Map<string, Member>;
}

export abstract class BrokerSignaler extends Emitter<BrokerSignalerEvents> implements Signaler {
  abstract readonly kind: string;
  abstract readonly transport: string;
  readonly localId: string;
  protected readonly rooms = new Map<string, JoinedRoom>();
  #state: SignalerState = 'connecting';
  #sent = 0;
  /** Last `n` seen per sender and channel ("signal"/"broadcast" + room). */
  readonly #lastN = new Map<string, number>();

  constructor(peerId: string | undefined) {
    super();
    this.localId = peerId ?? randomPeerId();
  }

  get state(): SignalerState {
    return this.#state;
  }

  /** The members of `room` as seen now (not us). */
  members(room: string): PeerInfo[] {
    return [...(this.rooms.get(room)?.members ?? [])].map(([peer, m]) => ({ peer, meta: m.meta }));
  }

  abstract join(room: string, meta?: PeerMeta): Promise<PeerInfo[]>;
  abstract leave(room: string): Promise<void>;
  abstract close(): Promise<void>;
  /** Publishes a data message to one member of `room` (`to`), or to the whole room. */
  protected abstract publishData(room: string, to: string | undefined, message: DataMessage): void;

  signal(to: string, data: Json, room?: string): void {
    const via = this.roomOf(to, room);
    if (via === undefined) {
      this.fail(new SignalingError('unsupported', `cannot signal ${to}: no room shared with it${room === undefined ? '' : ` ('${room}' not joined)`}`));
      return;
    }
    this.publishData(via, to, this.#dataMessage(data));
  }

  broadcast(room: string, data: Json): void {
    if (!this.rooms.has(room)) {
      this.fail(new SignalingError('unsupported', `cannot broadcast to '${room}': not joined`));
      return;
    }
    this.publishData(room, undefined, this.#dataMessage(data));
  }

  protected setState(state: SignalerState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.emit('state', state);
  }

  #dataMessage(data: Json): DataMessage {
    return { v: 1, from: this.localId, n: ++this.#sent, data };
  }

  protected fail(err: unknown): void {
    this.emit('error', err instanceof SignalingError ? err : new SignalingError('bad-payload', String(err), { cause: err }));
  }

  /** Decodes a payload; a bad one is reported and gives undefined. */
  protected decode(payload: Uint8Array | string, where: string): BrokerMessage | undefined {
    try {
      return decodeMessage(payload, where);
    } catch (err) {
      this.fail(err);
      return undefined;
    }
  }

  /** The room a room-less signal goes through: one we share with `to`. */
  protected roomOf(to: string, room: string | undefined): string | undefined {
    if (room !== undefined) return this.rooms.has(room) ? room : undefined;
    for (const [name, r] of this.rooms) if (r.members.has(to)) return name;
    return undefined;
  }

  /** A member is present (or refreshed its presence); `ttlMs` arms its expiry. */
  protected present(room: string, peer: string, meta: PeerMeta, ttlMs?: number): void {
    const r = this.rooms.get(room);
    if (!r || peer === this.localId) return;
    let member = r.members.get(peer);
    const isNew = !member;
    if (!member) r.members.set(peer, (member = { meta }));
    clearTimeout(member.expiry);
    if (ttlMs !== undefined) {
      member.expiry = setTimeout(() => this.gone(room, peer, 'timeout'), ttlMs);
      member.expiry.unref?.();
    }
    if (isNew && !r.joining) this.emit('peer-joined', { room, peer: { peer, meta } });
  }

  /** A member left `room` (or every room when `room` is undefined). */
  protected gone(room: string | undefined, peer: string, reason: string): void {
    for (const [name, r] of this.rooms) {
      if (room !== undefined && name !== room) continue;
      const member = r.members.get(peer);
      if (!member) continue;
      clearTimeout(member.expiry);
      r.members.delete(peer);
      if (!r.joining) this.emit('peer-left', { room: name, peer, reason });
    }
  }

  /** A data message arrived on `room`'s signal (to us) or broadcast channel. */
  protected deliver(room: string, channel: 'signal' | 'broadcast', message: DataMessage): void {
    if (message.from === this.localId || !this.rooms.has(room)) return;
    const key = `${channel} ${message.from} ${room}`;
    if (message.n <= (this.#lastN.get(key) ?? 0)) return; // a duplicate (QoS 1 redelivery) or out of order
    this.#lastN.set(key, message.n);
    if (channel === 'signal') this.emit('signal', { room, from: message.from, data: message.data });
    else this.emit('broadcast', { room, from: message.from, data: message.data });
  }

  /** Starts tracking a room; `finishJoin` returns its members and starts emitting events. */
  protected startJoin(room: string, meta: PeerMeta): JoinedRoom {
    if (this.#state === 'closed') throw new SignalingError('closed', 'the signaler was closed');
    if (this.rooms.has(room)) throw new SignalingError('unsupported', `already in room '${room}'`);
    const r: JoinedRoom = { meta, joining: true, members: new Map() };
    this.rooms.set(room, r);
    return r;
  }

  protected finishJoin(room: string): PeerInfo[] {
    const r = this.rooms.get(room);
    if (!r) return [];
    r.joining = false;
    return this.members(room);
  }

  protected dropRoom(room: string): void {
    const r = this.rooms.get(room);
    if (!r) return;
    for (const m of r.members.values()) clearTimeout(m.expiry);
    this.rooms.delete(room);
  }
}
