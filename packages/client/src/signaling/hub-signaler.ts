/**
 * The hub as a Signaler: rooms, presence and messages over a HubConnection. Joins are
 * matched to their `joined` / `error` answers by frame id; when the hub session had to be
 * replaced by a new one (grace period over), every room is joined again and `rejoined`
 * tells the room layer which peers are there now.
 */
import type { ErrorCode, ErrorFrame, Json, PeerInfo, PeerMeta, ServerFrame } from '@pinhole/protocol';
import { Emitter } from '../emitter.js';
import type { Signaler, SignalerEvents, SignalerState } from './signaler.js';
import { HubConnection, type HubConnectionEvents, type HubConnectionOptions, type HubUrls } from './hub-connection.js';
import type { TransportName } from './link.js';
import { SignalingError } from './errors.js';

/** An `error` frame from the hub, as an Error. */
export class HubError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly frame?: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'HubError';
  }

  static of(frame: ErrorFrame): HubError {
    return new HubError(frame.code, frame.message, frame.frame);
  }
}

export interface HubSignalerEvents extends SignalerEvents {
  reconnecting: HubConnectionEvents['reconnecting'];
  reconnected: HubConnectionEvents['reconnected'];
  'transport-changed': HubConnectionEvents['transport-changed'];
  disconnected: HubConnectionEvents['disconnected'];
  /** The hub session was replaced by a new one: our peer id changed. */
  expired: HubConnectionEvents['expired'];
  /** A hub error not tied to a pending join/leave (e.g. `unknown-peer` for a signal). */
  error: HubError;
}

interface Pending {
  room: string;
  resolve: (peers: PeerInfo[]) => void;
  reject: (err: Error) => void;
}

export class HubSignaler extends Emitter<HubSignalerEvents> implements Signaler {
  readonly kind = 'hub';
  readonly connection: HubConnection;
  /** Rooms joined (or being joined) and their meta, for re-joining after a session expiry. */
  readonly #rooms = new Map<string, PeerMeta>();
  /** Outstanding join/leave requests by frame id. */
  readonly #pending = new Map<number, Pending>();

  constructor(url: HubUrls, options: HubConnectionOptions) {
    super();
    this.connection = new HubConnection(url, options);
    const c = this.connection;
    c.on('frame', (f) => this.#onFrame(f));
    c.on('state', () => this.emit('state', this.state));
    for (const event of ['reconnecting', 'reconnected', 'transport-changed', 'disconnected'] as const) {
      c.on(event, (payload) => this.emit(event, payload as never));
    }
    c.on('expired', (payload) => this.#onExpired(payload));
  }

  /** Opens the hub session. */
  async open(): Promise<this> {
    await this.connection.open();
    return this;
  }

  get localId(): string {
    return this.connection.welcome?.peer ?? '';
  }

  get transport(): TransportName {
    return this.connection.transport;
  }

  get state(): SignalerState {
    return this.connection.state;
  }

  join(room: string, meta: PeerMeta = {}): Promise<PeerInfo[]> {
    this.#rooms.set(room, meta);
    return this.#request({ type: 'join', room, meta }, room).catch((err: unknown) => {
      this.#rooms.delete(room);
      throw err;
    });
  }

  async leave(room: string): Promise<void> {
    this.#rooms.delete(room);
    await this.#request({ type: 'leave', room }, room);
  }

  signal(to: string, data: Json, room?: string): void {
    this.connection.send(room === undefined ? { type: 'signal', to, data } : { type: 'signal', to, room, data });
  }

  broadcast(room: string, data: Json): void {
    this.connection.send({ type: 'broadcast', room, data });
  }

  async close(): Promise<void> {
    for (const p of this.#pending.values()) p.reject(new SignalingError('closed', 'the signaler was closed'));
    this.#pending.clear();
    await this.connection.close();
  }

  #request(frame: { type: 'join'; room: string; meta: PeerMeta } | { type: 'leave'; room: string }, room: string): Promise<PeerInfo[]> {
    return new Promise((resolve, reject) => {
      const id = this.connection.send(frame);
      this.#pending.set(id, { room, resolve, reject });
    });
  }

  #settle(ref: unknown, room: string | undefined, outcome: { peers: PeerInfo[] } | { error: HubError }): boolean {
    if (typeof ref !== 'number') return false;
    const p = this.#pending.get(ref);
    if (!p || (room !== undefined && p.room !== room)) return false;
    this.#pending.delete(ref);
    if ('error' in outcome) p.reject(outcome.error);
    else p.resolve(outcome.peers);
    return true;
  }

  #onFrame(f: ServerFrame): void {
    switch (f.type) {
      case 'joined':
        if (!this.#settle(f.ref, f.room, { peers: f.peers })) this.emit('rejoined', { room: f.room, peers: f.peers });
        break;
      case 'left':
        this.#settle(f.ref, f.room, { peers: [] });
        break;
      case 'peer-joined':
        this.emit('peer-joined', { room: f.room, peer: f.service === undefined ? { peer: f.peer, meta: f.meta } : { peer: f.peer, meta: f.meta, service: f.service } });
        break;
      case 'peer-left':
        this.emit('peer-left', { room: f.room, peer: f.peer, reason: f.reason });
        break;
      case 'signal':
        this.emit('signal', f.room === undefined ? { from: f.from, data: f.data } : { room: f.room, from: f.from, data: f.data });
        break;
      case 'broadcast':
        this.emit('broadcast', { room: f.room, from: f.from, data: f.data });
        break;
      case 'error':
        if (!this.#settle(f.ref, undefined, { error: HubError.of(f) })) this.emit('error', HubError.of(f));
        break;
      default:
        break; // pong and unknown types
    }
  }

  /** A new hub session replaced the old one: join every room again (answers arrive as `rejoined`). */
  #onExpired(payload: HubConnectionEvents['expired']): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.emit('expired', payload);
    for (const [room, meta] of this.#rooms) {
      const waiting = pending.filter((p) => p.room === room);
      const id = this.connection.send({ type: 'join', room, meta });
      if (waiting.length > 0) {
        this.#pending.set(id, {
          room,
          resolve: (peers) => waiting.forEach((p) => p.resolve(peers)),
          reject: (err) => waiting.forEach((p) => p.reject(err)),
        });
      }
    }
    for (const p of pending) if (!this.#rooms.has(p.room)) p.resolve([]); // a leave: the old session is gone anyway
  }
}
