/**
 * The SFU as a member of hub rooms (docs/protocol/sfu.md): it dials a hub with a service
 * token (`svc: "sfu"`), asks to be told of rooms (`watch-rooms`), joins each room while it has
 * members and serves their `pinhole:sfu-*` signals with one Sfu. Members' signals are handled
 * one at a time per member, in the order they arrive.
 */
import { HubSignaler, nodePlatform, type Json, type TokenSource } from '@pinhole/node';
import type { PeerInfo, ServerFrame } from '@pinhole/protocol';
import { SfuError } from './engine.js';
import type { Published, Room, SessionSignals } from './room.js';
import type { Sfu } from './sfu.js';

/** The `type`s of the signals the service reads and sends (docs/protocol/sfu.md). */
export const SFU_SIGNALS = {
  publish: 'pinhole:sfu-publish',
  answer: 'pinhole:sfu-answer',
  subscribe: 'pinhole:sfu-subscribe',
  offer: 'pinhole:sfu-offer',
  candidates: 'pinhole:sfu-candidates',
  layer: 'pinhole:sfu-layer',
  unpublish: 'pinhole:sfu-unpublish',
  unsubscribe: 'pinhole:sfu-unsubscribe',
  tracks: 'pinhole:sfu-tracks',
  viewers: 'pinhole:sfu-viewers',
  speaker: 'pinhole:sfu-speaker',
  error: 'pinhole:sfu-error',
} as const;

/** The codes of `pinhole:sfu-error`: SfuError's, and `internal` for anything unexpected. */
export type SfuErrorCode = SfuError['code'] | 'internal';

export interface ServiceLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface SfuServiceOptions {
  /** The hub's base URL (`https://host:8443`), or several to try in turn. */
  hub: string | string[];
  /** A service token (`svc: "sfu"`), or a function minting a fresh one at every hello. */
  token: TokenSource;
  sfu: Sfu;
  /** Accept a self-signed hub certificate (dev). */
  insecure?: boolean;
  /** PEM CA of the hub's certificate. */
  ca?: string;
  /** Proxy URL for the hub connection, `false` for none; default: the environment's (HTTPS_PROXY …). */
  proxy?: string | false;
  logger?: ServiceLogger;
}

const silent: ServiceLogger = { info: () => undefined, warn: () => undefined };

type Signal = Record<string, Json>;

function request(data: Json): Signal {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new SfuError('bad-request', 'a signal to the SFU is a JSON object with a "type"');
  return data;
}

function text(signal: Signal, field: string): string {
  const value = signal[field];
  if (typeof value !== 'string' || value === '') throw new SfuError('bad-request', `${String(signal.type)}: "${field}" must be a non-empty string`);
  return value;
}

export class SfuService {
  readonly signaler: HubSignaler;
  readonly #sfu: Sfu;
  readonly #log: ServiceLogger;
  /** Rooms joined (or being joined) on the hub, and their members that are not services. */
  readonly #rooms = new Map<string, Set<string>>();
  /** Per room: the last room operation (join, leave), so they apply in order. */
  readonly #roomOps = new Map<string, Promise<void>>();
  /** Per room and member: the last signal being handled. */
  readonly #queues = new Map<string, Promise<void>>();
  readonly #off: () => void;
  readonly #offViewers: () => void;
  readonly #offSpeaker: () => void;
  /** Per room: how many watch it (WHEP viewers), while more than none. */
  readonly #viewers = new Map<string, number>();
  #closed = false;

  constructor(options: SfuServiceOptions) {
    this.#sfu = options.sfu;
    this.#log = options.logger ?? silent;
    this.signaler = new HubSignaler(options.hub, { platform: nodePlatform({ insecure: options.insecure, ca: options.ca, proxy: options.proxy }), token: options.token });
    const s = this.signaler;
    s.connection.on('frame', (f) => this.#onFrame(f));
    s.connection.on('expired', () => this.#onExpired());
    s.on('peer-joined', ({ room, peer }) => this.#memberJoined(room, peer));
    s.on('peer-left', ({ room, peer }) => this.#memberLeft(room, peer));
    s.on('signal', ({ room, from, data }) => this.#onSignal(room, from, data));
    // After a new hub session the signaler joins our rooms again: these are their members now.
    s.on('rejoined', ({ room, peers }) => peers.forEach((p) => this.#memberJoined(room, p)));
    s.on('error', (err) => this.#log.warn({ err: err.message }, 'hub refused a frame of the SFU service'));
    this.#off = this.#sfu.onPublications((room, change) => this.#announce(room, change));
    this.#offViewers = this.#sfu.onViewers((room, count) => this.#announceViewers(room, count));
    this.#offSpeaker = this.#sfu.onActiveSpeaker((room, peer) => {
      if (!this.#closed && this.#rooms.has(room) && this.signaler.state !== 'closed') this.signaler.broadcast(room, { type: SFU_SIGNALS.speaker, publisher: peer ?? null });
    });
  }

  /** Opens the hub session and asks to be told of rooms. */
  async start(): Promise<this> {
    await this.signaler.open();
    this.signaler.connection.send({ type: 'watch-rooms' });
    this.#log.info({ hub: this.signaler.connection.base, peer: this.signaler.localId }, 'SFU service joined the hub');
    return this;
  }

  /** The SFU's peer id in rooms. */
  get peer(): string {
    return this.signaler.localId;
  }

  /** The rooms the service is in now. */
  get rooms(): string[] {
    return [...this.#rooms.keys()];
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#off();
    this.#offViewers();
    this.#offSpeaker();
    for (const [room, members] of this.#rooms) for (const member of members) this.#sfu.leave(room, member);
    this.#rooms.clear();
    await this.signaler.close();
  }

  // ------------------------------------------------------------ rooms

  #onFrame(f: ServerFrame): void {
    if (f.type === 'watching') {
      const open = new Set(f.rooms);
      for (const room of open) this.#enter(room);
      for (const room of this.#rooms.keys()) if (!open.has(room)) this.#exit(room);
    } else if (f.type === 'room-opened') {
      this.#enter(f.room);
    } else if (f.type === 'room-closed') {
      this.#exit(f.room);
    } else if (f.type === 'error' && f.frame === 'watch-rooms') {
      this.#log.warn({ code: f.code, message: f.message }, 'the hub refused watch-rooms: is the token a service token (svc: "sfu")?');
    }
  }

  #roomOp(room: string, op: () => Promise<void>): void {
    const next = (this.#roomOps.get(room) ?? Promise.resolve()).then(op).catch((err: unknown) => {
      this.#log.warn({ room, err: (err as Error).message }, 'SFU service room operation failed');
    });
    this.#roomOps.set(room, next);
    void next.then(() => {
      if (this.#roomOps.get(room) === next) this.#roomOps.delete(room);
    });
  }

  #enter(room: string): void {
    if (this.#closed || this.#rooms.has(room)) return;
    const members = new Set<string>();
    this.#rooms.set(room, members);
    this.#roomOp(room, async () => {
      if (this.#rooms.get(room) !== members) return;
      try {
        const peers = await this.signaler.join(room, { name: 'SFU' });
        for (const p of peers) this.#memberJoined(room, p);
      } catch (err) {
        // Refused (a full room, say): not in it, so nothing to serve there.
        if (this.#rooms.get(room) === members) this.#rooms.delete(room);
        throw err;
      }
    });
  }

  #exit(room: string): void {
    const members = this.#rooms.get(room);
    if (!members) return;
    this.#rooms.delete(room);
    for (const member of members) this.#sfu.leave(room, member);
    this.#roomOp(room, () => this.signaler.leave(room));
  }

  /** A new hub session (the old one ended): every member saw the old SFU leave, so start over. */
  #onExpired(): void {
    for (const [room, members] of this.#rooms) {
      for (const member of members) this.#sfu.leave(room, member);
      members.clear();
    }
    this.signaler.connection.send({ type: 'watch-rooms' });
  }

  #memberJoined(room: string, info: PeerInfo): void {
    const members = this.#rooms.get(room);
    if (!members || info.service !== undefined) return;
    members.add(info.peer);
    // What is published already, so the newcomer knows what to subscribe to.
    for (const published of this.#room(room).published()) {
      this.signaler.signal(info.peer, tracksSignal(published), room);
    }
    const viewers = this.#viewers.get(room);
    if (viewers !== undefined) this.signaler.signal(info.peer, { type: SFU_SIGNALS.viewers, count: viewers }, room);
    const speaker = this.#room(room).activeSpeaker;
    if (speaker !== undefined) this.signaler.signal(info.peer, { type: SFU_SIGNALS.speaker, publisher: speaker }, room);
  }

  #memberLeft(room: string, peer: string): void {
    if (!this.#rooms.get(room)?.delete(peer)) return;
    this.#sfu.leave(room, peer);
  }

  #room(name: string): Room {
    return this.#sfu.room(name);
  }

  /** A publication started or ended in `room` (a member's or WHIP's): the hub room is told. */
  #announce(room: string, published: Published): void {
    if (!this.#closed && this.#rooms.has(room) && this.signaler.state !== 'closed') this.signaler.broadcast(room, tracksSignal(published));
  }

  /** The number of viewers of `room` changed: the hub room is told (and each member that joins, while it is more than none). */
  #announceViewers(room: string, count: number): void {
    if (count > 0) this.#viewers.set(room, count);
    else this.#viewers.delete(room);
    if (!this.#closed && this.#rooms.has(room) && this.signaler.state !== 'closed') this.signaler.broadcast(room, { type: SFU_SIGNALS.viewers, count });
  }

  // ------------------------------------------------------------ signals

  #onSignal(room: string | undefined, from: string, data: Json): void {
    const type = typeof data === 'object' && data !== null && !Array.isArray(data) ? data.type : undefined;
    const members = room === undefined ? undefined : this.#rooms.get(room);
    if (room === undefined || !members) {
      if (typeof type === 'string' && type.startsWith('pinhole:sfu-')) {
        this.signaler.signal(from, { type: SFU_SIGNALS.error, code: 'bad-request', message: 'send SFU requests with the signal\'s "room"', request: type }, room);
      }
      return;
    }
    // The hub delivers a signal with `room` only from a member of it: one whose peer-joined
    // may still be on its way behind our own join's answer.
    members.add(from);
    const key = `${room}\u0000${from}`;
    const next = (this.#queues.get(key) ?? Promise.resolve()).then(() => this.#handle(room, from, data));
    this.#queues.set(key, next);
    void next.then(() => {
      if (this.#queues.get(key) === next) this.#queues.delete(key);
    });
  }

  async #handle(roomName: string, from: string, data: Json): Promise<void> {
    let type: string | undefined;
    try {
      const signal = request(data);
      type = typeof signal.type === 'string' ? signal.type : undefined;
      const room = this.#room(roomName);
      switch (type) {
        case SFU_SIGNALS.publish: {
          const sdp = await room.publish(from, text(signal, 'sdp'));
          this.#reply(roomName, from, { type: SFU_SIGNALS.answer, sdp });
          return;
        }
        case SFU_SIGNALS.subscribe: {
          const publisher = text(signal, 'publisher');
          const layer = signal.layer;
          if (layer !== undefined && typeof layer !== 'string') throw new SfuError('bad-request', `${type}: "layer" must be a RID`);
          // The session's offers (this one's and every later renegotiation's) come through these signals.
          await room.subscribe(from, publisher, this.#sessionSignals(roomName, from), layer === undefined ? {} : { layer });
          // It may have left while the publisher's tracks were awaited: no session outlives its member.
          if (!this.#rooms.get(roomName)?.has(from)) room.leave(from);
          return;
        }
        case SFU_SIGNALS.answer:
          // The SFU's candidates follow the first answer of a session (docs/protocol/sfu.md, why).
          await room.acceptAnswer(from, text(signal, 'sdp'));
          return;
        case SFU_SIGNALS.layer: {
          const rid = signal.rid;
          if (rid !== null && typeof rid !== 'string') throw new SfuError('bad-request', `${type}: "rid" must be a RID or null`);
          const trackMid = signal.trackMid;
          if (trackMid !== undefined && typeof trackMid !== 'string') throw new SfuError('bad-request', `${type}: "trackMid" must be a MID`);
          room.setLayer(from, text(signal, 'publisher'), rid, trackMid);
          return;
        }
        case SFU_SIGNALS.unpublish:
          room.unpublish(from);
          return;
        case SFU_SIGNALS.unsubscribe: {
          // Without `publisher`: the whole session ends (a client whose connection broke starts over).
          const publisher = signal.publisher;
          if (publisher !== undefined && typeof publisher !== 'string') throw new SfuError('bad-request', `${type}: "publisher" must be a peer id`);
          room.unsubscribe(from, publisher);
          return;
        }
        default:
          throw new SfuError('bad-request', `unknown signal type ${JSON.stringify(type ?? null)}`);
      }
    } catch (err) {
      const code: SfuErrorCode = err instanceof SfuError ? err.code : 'internal';
      if (code === 'internal') this.#log.warn({ room: roomName, peer: from, err: (err as Error).message }, 'SFU request failed');
      const reply: Signal = { type: SFU_SIGNALS.error, code, message: (err as Error).message };
      if (type !== undefined) reply.request = type;
      const publisher = typeof data === 'object' && data !== null && !Array.isArray(data) ? data.publisher : undefined;
      if (typeof publisher === 'string') reply.publisher = publisher;
      this.#reply(roomName, from, reply);
    }
  }

  /** Where `peer`'s subscriber session in `room` sends its offers, candidates and closing. */
  #sessionSignals(room: string, peer: string): SessionSignals {
    return {
      offer: ({ sdp, tracks }) => this.#reply(room, peer, { type: SFU_SIGNALS.offer, sdp, tracks: tracks as unknown as Json }),
      candidates: (candidates) => this.#reply(room, peer, { type: SFU_SIGNALS.candidates, candidates: candidates.map((c) => ({ candidate: c.candidate, sdpMid: c.sdpMid })) }),
      closed: () => this.#reply(room, peer, { type: SFU_SIGNALS.error, code: 'closed', message: 'the subscriber session closed (its transport failed): subscribe again' }),
    };
  }

  #reply(room: string, to: string, data: Signal): void {
    if (this.signaler.state === 'closed') return;
    this.signaler.signal(to, data, room);
  }
}

/** `pinhole:sfu-tracks` for a publication (docs/protocol/sfu.md §15.2); `name` only for publishers that are not members. */
function tracksSignal({ publisher, tracks, name }: Published): Json {
  return { type: SFU_SIGNALS.tracks, publisher, tracks: tracks as unknown as Json, ...(name === undefined ? {} : { name }) };
}
