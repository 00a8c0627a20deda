/** The SFU: rooms by name on one engine, created on first use and dropped when empty. */
import { combineEngines, type Engine } from './engine.js';
import { DataChannelEngine } from './engines/datachannel.js';
import { WeriftEngine } from './engines/werift.js';
import { Room, type Published } from './room.js';

export interface SfuOptions {
  /** Default: werift receives publishers, node-datachannel sends to subscribers (bench/sfu/RESULTS.md says why). */
  engine?: Engine;
  /** UDP ports for ICE of the default engine, inclusive. */
  portRange?: [number, number];
}

/** The default engine: werift for publishers (simulcast), node-datachannel for the fan-out. */
export function defaultEngine(options: Pick<SfuOptions, 'portRange'> = {}): Engine {
  return combineEngines(new WeriftEngine(options), new DataChannelEngine(options));
}

export class Sfu {
  readonly engine: Engine;
  private readonly rooms = new Map<string, Room>();
  private readonly listeners = new Set<(room: string, change: Published) => void>();

  constructor(options: SfuOptions = {}) {
    this.engine = options.engine ?? defaultEngine(options);
  }

  room(name: string): Room {
    let room = this.rooms.get(name);
    if (!room) {
      room = new Room(name, this.engine);
      room.onPublications((change) => {
        for (const listener of this.listeners) listener(name, change);
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

  /** Leaves `peer` from `room` and forgets the room once nobody is in it. */
  leave(roomName: string, peer: string): void {
    const room = this.rooms.get(roomName);
    if (!room) return;
    room.leave(peer);
    if (room.empty) this.rooms.delete(roomName);
  }

  counts(): { rooms: number; publishers: number; subscribers: number } {
    const engine = this.engine.counts();
    return { rooms: [...this.rooms.values()].filter((r) => !r.empty).length, ...engine };
  }

  close(): void {
    for (const room of this.rooms.values()) room.close();
    this.rooms.clear();
    this.engine.close();
  }
}
