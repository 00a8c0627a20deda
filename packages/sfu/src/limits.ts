/**
 * The SFU's capacity limits (issue 15, "Limits"): what one SFU takes on before it refuses a
 * newcomer with SfuError `over-capacity` (`pinhole:sfu-error` to that peer only; 503 with
 * Retry-After on the gateway). A refusal changes nothing for anyone else, and a slot frees up
 * as soon as what held it ends (a publisher leaves, a session closes, a viewer goes).
 */
import { SfuError } from './engine.js';

export interface SfuLimits {
  /** Publishers in one room: members that publish, and WHIP streams. */
  publishersPerRoom: number;
  /** Subscribers in one room: members with a subscriber session, and WHEP viewers. */
  subscribersPerRoom: number;
  /** Rooms with anyone in them (publishing, subscribing or viewing) on this SFU. */
  rooms: number;
  /** Forwarded streams on this SFU: one publisher track sent to one subscriber or viewer. */
  forwardedStreams: number;
}

/**
 * Production defaults. Per room: the hub's own room size (DEFAULT_MAX_PEERS_PER_ROOM, 50), so
 * that members meet the hub's limit first; subscribers leave room for 200 WHEP viewers besides.
 * Per SFU: 600 forwarded streams are about what one core sends (bench/sfu/RESULTS.md: 17–23 µs
 * of CPU per packet; a video stream at 150 packets/s and its audio at 50 make 300 pairs ≈ 60,000
 * packets/s), and 100 rooms.
 */
export const DEFAULT_LIMITS: Readonly<SfuLimits> = {
  publishersPerRoom: 50,
  subscribersPerRoom: 250,
  rooms: 100,
  forwardedStreams: 600,
};

/** What a room tells the capacity check about itself. */
export interface RoomLoad {
  readonly name: string;
  readonly empty: boolean;
  publisherCount(): number;
  /** Members with a subscriber session, and viewers. */
  subscriberCount(): number;
  /** Publisher tracks sent to subscribers (every track of each publication a session subscribes to) and to viewers. */
  forwardedStreams(): number;
}

/** What a newcomer would add. */
export interface Need {
  publisher?: boolean;
  subscriber?: boolean;
  /** More forwarded streams. */
  forwards?: number;
}

/** Checks a room's newcomers against the limits of the SFU the room is on (all of its rooms). */
export class Capacity {
  readonly limits: Readonly<SfuLimits>;

  constructor(
    limits: Partial<SfuLimits> = {},
    private readonly rooms: () => Iterable<RoomLoad>,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    for (const [name, value] of Object.entries(this.limits)) {
      if (!(value >= 1)) throw new RangeError(`SFU limit ${name} must be at least 1 (Infinity for none), got ${value}`);
    }
  }

  /** Throws SfuError `over-capacity`, naming the limit and its value, when `room` cannot take `need`. */
  admit(room: RoomLoad, need: Need): void {
    const { limits } = this;
    const over = (what: string, limit: keyof SfuLimits): never => {
      throw new SfuError('over-capacity', `${what}: the most this SFU allows (${limit} ${limits[limit]}); try again later`);
    };
    if (need.publisher && room.publisherCount() >= limits.publishersPerRoom) {
      over(`room ${room.name} has ${room.publisherCount()} publishers`, 'publishersPerRoom');
    }
    if (need.subscriber && room.subscriberCount() >= limits.subscribersPerRoom) {
      over(`room ${room.name} has ${room.subscriberCount()} subscribers and viewers`, 'subscribersPerRoom');
    }
    let rooms = 0;
    let forwarded = 0;
    for (const r of this.rooms()) {
      if (!r.empty) rooms++;
      forwarded += r.forwardedStreams();
    }
    if (room.empty && rooms >= limits.rooms) over(`this SFU serves ${rooms} rooms`, 'rooms');
    const forwards = need.forwards ?? 0;
    if (forwards > 0 && forwarded + forwards > limits.forwardedStreams) {
      over(`this SFU forwards ${forwarded} streams and ${forwards} more were asked for`, 'forwardedStreams');
    }
  }
}
