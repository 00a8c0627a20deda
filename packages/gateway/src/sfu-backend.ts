/** The gateway's media side on @pinhole/sfu: a WHIP stream is a publisher of an SFU room, a WHEP player one of its viewers. */
import { SfuError, type Sfu } from '@pinhole/sfu';
import { GatewayError } from './errors.js';
import type { IngestRequest, MediaBackend, MediaSession, ViewRequest } from './media.js';

/** HTTP status for each SFU failure (RFC 9725 §4.2 leaves the codes to HTTP semantics). */
const STATUS: Record<SfuError['code'], number> = {
  'bad-sdp': 400,
  'bad-request': 400,
  'unsupported-codec': 406,
  'not-found': 404,
  closed: 409,
  timeout: 503,
  // The SFU's limits (SfuLimits): like the gateway's own maxSessions, try again later.
  'over-capacity': 503,
};

/** Retry-After (seconds) for the SFU's 503s: a timeout is worth retrying soon; a full SFU frees up as people leave. */
const RETRY_AFTER: Partial<Record<SfuError['code'], string>> = { timeout: '5', 'over-capacity': '10' };

export function toGatewayError(err: unknown): unknown {
  if (!(err instanceof SfuError)) return err;
  const retryAfter = RETRY_AFTER[err.code];
  return new GatewayError(STATUS[err.code], err.code, err.message, retryAfter === undefined ? {} : { 'retry-after': retryAfter });
}

/** `work`, its SfuError turned into the GatewayError the HTTP side sends. */
const asGatewayError = <T>(work: Promise<T>): Promise<T> =>
  work.catch((err: unknown) => {
    throw toGatewayError(err);
  });

export class SfuBackend implements MediaBackend {
  constructor(private readonly sfu: Sfu) {}

  async ingest({ room: roomName, id, name, offer }: IngestRequest): Promise<MediaSession> {
    const room = this.sfu.room(roomName);
    let answer: string;
    try {
      answer = await room.publish(id, offer, { name });
    } catch (err) {
      this.sfu.leave(roomName, id);
      throw toGatewayError(err);
    }
    return {
      answer,
      addCandidates: (candidates) => asGatewayError(room.addRemoteCandidates(id, candidates)),
      packets: () => room.packetsFrom(id),
      close: () => this.sfu.leave(roomName, id),
    };
  }

  async view({ room: roomName, id, participant, offer }: ViewRequest): Promise<MediaSession> {
    const room = this.sfu.room(roomName);
    const publisher = participant ?? room.featured();
    let ended: (() => void) | undefined;
    let over = false;
    let answer: string;
    try {
      if (publisher === undefined) throw new GatewayError(404, 'not-found', `nobody publishes video in room ${roomName}`);
      answer = await room.view(id, publisher, offer, {
        onEnd: () => {
          over = true;
          ended?.();
        },
      });
    } catch (err) {
      this.sfu.leave(roomName, id);
      throw toGatewayError(err);
    }
    return {
      answer,
      addCandidates: (candidates) => asGatewayError(room.addViewerCandidates(id, candidates)),
      packets: () => (over ? undefined : 0),
      close: () => this.sfu.leave(roomName, id),
      onEnded: (listener) => {
        ended = listener;
        if (over) listener();
      },
    };
  }

  viewerCount(room: string): number {
    return this.sfu.viewerCount(room);
  }

  featured(room: string): string | undefined {
    return this.sfu.featured(room);
  }
}
