/** The SFU: rooms by name on one engine, created on first use and dropped when empty. */
import { announceAddress } from './announce.js';
import { SfuCounters } from './counters.js';
import { combineEngines, type Engine } from './engine.js';
import { DataChannelEngine } from './engines/datachannel.js';
import { WeriftEngine } from './engines/werift.js';
import { Capacity, type SfuLimits } from './limits.js';
import { Room, type Published, type RoomOptions } from './room.js';
import type { SpeakerOptions } from './speaker.js';

export interface SfuOptions {
  /** Default: werift receives publishers, node-datachannel sends to subscribers and viewers (bench/sfu/RESULTS.md says why). */
  engine?: Engine;
  /** UDP ports for ICE of the default engine, inclusive. */
  portRange?: [number, number];
  /**
   * The address put in the SFU's host candidates instead of the host's own (1:1 NAT: the public
   * IP mapped onto this host, port for port); rewritten in every SDP and candidate the SFU sends (announce.ts).
   */
  announcedAddress?: string;
  /** Tuning of each room's active-speaker detection. */
  speaker?: SpeakerOptions;
  /** How long a subscriber session's offer waits for its answer before the session is given up (default 20 s). */
  answerTimeoutMs?: number;
  /** The most a publisher is told it may send (REMB), bit/s; default DEFAULT_MAX_PUBLISHER_BITRATE (3 Mbit/s). */
  maxPublisherBitrate?: number;
  /** Capacity limits (SfuError `over-capacity` beyond them); each one not given is DEFAULT_LIMITS's. */
  limits?: Partial<SfuLimits>;
  /** Audio of only this many publishers, the loudest, in a room that has more (RoomOptions.maxAudioForwards; default DEFAULT_MAX_AUDIO_FORWARDS, 5). */
  maxAudioForwards?: number;
}

/** The default engine: werift for publishers (simulcast), node-datachannel for the fan-out to subscribers and viewers. */
export function defaultEngine(options: Pick<SfuOptions, 'portRange'> = {}): Engine {
  const fanOut = new DataChannelEngine(options);
  return combineEngines(new WeriftEngine(options), fanOut, fanOut);
}

export class Sfu {
  readonly engine: Engine;
  private readonly rooms = new Map<string, Room>();
  private readonly speaker: SpeakerOptions | undefined;
  private readonly roomOptions: RoomOptions;
  /** The limits every room checks its newcomers against, over all rooms. */
  readonly capacity: Capacity;
  /** Packets and bytes received and forwarded, keyframes asked for, since the start (all rooms). */
  readonly counters = new SfuCounters();
  /** Layer switches by bandwidth in rooms already dropped. */
  private pastSwitches = 0;
  private readonly listeners = new Set<(room: string, change: Published) => void>();
  private readonly speakerListeners = new Set<(room: string, peer: string | undefined) => void>();
  private readonly viewerListeners = new Set<(room: string, count: number) => void>();

  constructor(options: SfuOptions = {}) {
    const engine = options.engine ?? defaultEngine(options);
    this.engine = options.announcedAddress === undefined ? engine : announceAddress(engine, options.announcedAddress);
    this.speaker = options.speaker;
    const { answerTimeoutMs, maxPublisherBitrate, maxAudioForwards } = options;
    this.capacity = new Capacity(options.limits, () => this.rooms.values());
    this.roomOptions = {
      counters: this.counters,
      capacity: this.capacity,
      ...(maxAudioForwards === undefined ? {} : { maxAudioForwards }),
      ...(answerTimeoutMs === undefined ? {} : { answerTimeoutMs }),
      ...(maxPublisherBitrate === undefined ? {} : { maxPublisherBitrate }),
    };
  }

  room(name: string): Room {
    let room = this.rooms.get(name);
    if (!room) {
      room = new Room(name, this.engine, this.speaker, this.roomOptions);
      room.onPublications((change) => {
        for (const listener of this.listeners) listener(name, change);
      });
      room.onViewers((count) => {
        for (const listener of this.viewerListeners) listener(name, count);
      });
      room.onActiveSpeaker((peer) => {
        for (const listener of this.speakerListeners) listener(name, peer);
      });
      this.rooms.set(name, room);
    }
    return room;
  }

  /** Publications starting and ending in every room (Room.onPublications). */
  onPublications(listener: (room: string, change: Published) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The number of viewers (WHEP players) of every room, as it changes (Room.onViewers). */
  onViewers(listener: (room: string, count: number) => void): () => void {
    this.viewerListeners.add(listener);
    return () => this.viewerListeners.delete(listener);
  }

  /** The active speaker of every room, as it changes (Room.onActiveSpeaker). */
  onActiveSpeaker(listener: (room: string, peer: string | undefined) => void): () => void {
    this.speakerListeners.add(listener);
    return () => this.speakerListeners.delete(listener);
  }

  /** Leaves `peer` from `room` and forgets the room once nobody is in it. */
  leave(roomName: string, peer: string): void {
    const room = this.rooms.get(roomName);
    if (!room) return;
    room.leave(peer);
    if (room.empty) {
      this.pastSwitches += room.layerSwitchesByBandwidth;
      this.rooms.delete(roomName);
    }
  }

  /** The publisher a viewer of `room` gets when it names none (Room.featured), without making the room. */
  featured(room: string): string | undefined {
    return this.rooms.get(room)?.featured();
  }

  /** WHEP-style viewers in `room` (they are not participants). */
  viewerCount(room: string): number {
    return this.rooms.get(room)?.viewerCount() ?? 0;
  }

  counts(): { rooms: number; publishers: number; subscribers: number } {
    const engine = this.engine.counts();
    return { rooms: [...this.rooms.values()].filter((r) => !r.empty).length, ...engine };
  }

  /** Each room's publishers' bitrate (bit/s), for rooms with a publisher. */
  roomBitrates(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, room] of this.rooms) if (!room.empty) out.set(name, room.bitrate());
    return out;
  }

  /** Subscribers' layer switches made by their bandwidth estimates (REMB) so far, in all rooms. */
  layerSwitchesByBandwidth(): number {
    let n = this.pastSwitches;
    for (const room of this.rooms.values()) n += room.layerSwitchesByBandwidth;
    return n;
  }

  close(): void {
    for (const room of this.rooms.values()) room.close();
    this.rooms.clear();
    this.engine.close();
  }
}
