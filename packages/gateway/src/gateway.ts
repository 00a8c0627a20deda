/**
 * WHIP (RFC 9725) and WHEP (draft-ietf-wish-whep) on the hub's port: `POST /v1/whip/{room}`
 * with an SDP offer publishes a stream into a Pinhole room through the media server;
 * `POST /v1/whep/{room}[/{participant}]` with a player's offer watches one. Either session is
 * the resource at `/v1/resources/{id}` (PATCH: trickle ICE; DELETE: end it). docs/whip-whep.md
 * is the user's guide; this file is the HTTP side only, media goes through a MediaBackend.
 * `GET /v1/whep/{room}` tells a waiting player whether the room has video and how many watch.
 *
 * Resources live under one prefix of their own (not under the endpoints) so that a WHEP
 * endpoint `/v1/whep/{room}/{participant}` can never be mistaken for one.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRoomName, type IceServer } from '@pinhole/protocol';
import { GatewayError } from './errors.js';
import { ALLOWED_METHODS, corsHeaders, iceServerLinks, mediaType, readBody, sendError } from './http.js';
import type { MediaBackend, MediaSession } from './media.js';
import { parseSdpFrag, sdpUfrag } from './sdpfrag.js';

export type GatewayAction = 'publish' | 'view';

/** What the gateway needs of the hub: who may do what, and the ICE servers to hand out. */
export interface GatewayAccess {
  /**
   * Checks `Authorization` (undefined when absent) for `action` in `room` and returns who it
   * is. Throws GatewayError 401 (none, wrong or expired) or 403 (room or right not covered).
   */
  authorize(authorization: string | undefined, room: string, action: GatewayAction): Promise<{ identity: string }>;
  /** ICE servers (with TURN credentials) for `identity`, for the Link headers. */
  iceServers(identity: string): IceServer[];
  /** Origins allowed to call from a browser; empty: any. */
  allowedOrigins: readonly string[];
}

export interface GatewayLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface GatewayOptions {
  backend: MediaBackend;
  access: GatewayAccess;
  /** Live sessions at most; more get 503 with Retry-After. Default 100. */
  maxSessions?: number;
  /** A session whose media stops (or never starts) for this long ends. Default 30 s. */
  mediaTimeoutMs?: number;
  /** Largest SDP offer or fragment accepted. Default 128 KiB. */
  maxBodyBytes?: number;
  logger?: GatewayLogger;
}

/** Why a session ended, in logs and `stats().ended`. */
export type EndReason = 'deleted' | 'media-timeout' | 'media-ended' | 'closed';

/** WHIP publishes, WHEP views. */
export type SessionKind = 'whip' | 'whep';

export interface GatewayStats {
  /** Live sessions, WHIP and WHEP. */
  sessions: number;
  /** WHEP viewers by room. */
  viewers: Record<string, number>;
  /** Sessions started since the gateway was made. */
  started: number;
  ended: Record<EndReason, number>;
  /** RTP packets received from WHIP publishers since the gateway was made. */
  receivedPackets: number;
  /** Refused requests by error code (`unauthorized`, `bad-sdp`, `over-capacity`, …). */
  refused: Record<string, number>;
}

interface Resource {
  readonly kind: SessionKind;
  readonly id: string;
  readonly room: string;
  readonly name: string;
  readonly etag: string;
  readonly ufrag: string | undefined;
  readonly media: MediaSession;
  packets: number;
  lastMediaAt: number;
}

const ENDPOINT = /^\/v1\/(whip|whep)\/([^/]+)(?:\/([^/]+))?$/;
const RESOURCE = /^\/v1\/resources\/([A-Za-z0-9_-]{1,64})$/;
/** A publisher's peer id in the room (a WHIP session's id, or a Pinhole peer id). */
const PARTICIPANT = /^[A-Za-z0-9_.~-]{1,128}$/;
const ACTION: Record<SessionKind, GatewayAction> = { whip: 'publish', whep: 'view' };
const LABEL: Record<SessionKind, string> = { whip: 'WHIP', whep: 'WHEP' };
const NAME = /^[^\u0000-\u001f\u007f]{1,64}$/;
export const WHIP_RESOURCE_PREFIX = '/v1/resources/';

export class Gateway {
  readonly #options: Required<Omit<GatewayOptions, 'logger'>> & { logger: GatewayLogger | undefined };
  readonly #resources = new Map<string, Resource>();
  /** Sessions being set up (counted against maxSessions before their answer exists). */
  #pending = 0;
  readonly #ended: Record<EndReason, number> = { deleted: 0, 'media-timeout': 0, 'media-ended': 0, closed: 0 };
  readonly #refused: Record<string, number> = {};
  #started = 0;
  /** Packets of sessions that ended (live ones add theirs in stats()). */
  #endedPackets = 0;
  readonly #sweep: NodeJS.Timeout;

  constructor(options: GatewayOptions) {
    this.#options = { maxSessions: 100, mediaTimeoutMs: 30_000, maxBodyBytes: 128 * 1024, logger: undefined, ...options };
    this.#sweep = setInterval(() => this.#checkMedia(), Math.max(100, Math.min(5000, this.#options.mediaTimeoutMs / 3)));
    this.#sweep.unref();
  }

  /** Handles WHIP and WHEP paths; false for any other path (the caller routes it). */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0]!;
    const endpoint = ENDPOINT.exec(path);
    const resource = endpoint ? undefined : RESOURCE.exec(path);
    if (!endpoint && !resource) return false;
    // `/v1/whip/{room}/{x}` is no endpoint: the hub answers it (404) as any unknown path.
    if (endpoint && endpoint[1] === 'whip' && endpoint[3] !== undefined) return false;
    res.on('error', () => undefined);
    let cors: Record<string, string> = {};
    const run = async (): Promise<void> => {
      cors = corsHeaders(req, this.#options.access.allowedOrigins);
      if (endpoint) await this.#endpoint(req, res, endpoint[1] as SessionKind, endpoint[2]!, endpoint[3], cors);
      else await this.#resource(req, res, resource![1]!, cors);
    };
    run().catch((err: unknown) => {
      if (!(err instanceof GatewayError)) this.#options.logger?.warn({ err: (err as Error).message, path }, 'WHIP/WHEP request failed');
      const code = err instanceof GatewayError ? err.code : 'internal';
      this.#refused[code] = (this.#refused[code] ?? 0) + 1;
      sendError(res, err, cors);
    });
    return true;
  }

  /** Live sessions (WHIP and WHEP, against maxSessions), WHEP viewers by room, why sessions ended, packets and refusals. */
  stats(): GatewayStats {
    const viewers: Record<string, number> = {};
    let receivedPackets = this.#endedPackets;
    for (const r of this.#resources.values()) {
      if (r.kind === 'whep') viewers[r.room] = (viewers[r.room] ?? 0) + 1;
      else receivedPackets += r.media.packets() ?? r.packets;
    }
    return { sessions: this.#resources.size, viewers, started: this.#started, ended: { ...this.#ended }, receivedPackets, refused: { ...this.#refused } };
  }

  /** How many watch `room` through WHEP (viewers are not participants; the room can show this number). */
  viewerCount(room: string): number {
    return this.#options.backend.viewerCount(room);
  }

  /** Ends every session. */
  close(): void {
    clearInterval(this.#sweep);
    for (const r of [...this.#resources.values()]) this.#end(r, 'closed');
  }

  async #endpoint(req: IncomingMessage, res: ServerResponse, kind: SessionKind, rawRoom: string, rawParticipant: string | undefined, cors: Record<string, string>): Promise<void> {
    const room = rawRoom;
    if (!isRoomName(room)) throw new GatewayError(400, 'bad-room', 'room names match [A-Za-z0-9_.~-]{1,128} and are not only dots');
    if (rawParticipant !== undefined && !PARTICIPANT.test(rawParticipant)) {
      throw new GatewayError(400, 'bad-participant', 'a participant is a peer id matching [A-Za-z0-9_.~-]{1,128}');
    }
    const { access } = this.#options;
    const action = ACTION[kind];
    // A room's WHEP endpoint also answers GET: what a player waiting for the room needs to know.
    const allow = kind === 'whep' && rawParticipant === undefined ? 'GET, OPTIONS, POST' : 'OPTIONS, POST';
    if (req.method === 'OPTIONS') {
      const headers: Record<string, string | string[]> = { ...cors, 'accept-post': 'application/sdp', allow };
      // ICE servers only for a request that proves who it is (RFC 9725 §4.6: a preflight carries no credentials).
      if (req.headers.authorization !== undefined) {
        const { identity } = await access.authorize(req.headers.authorization, room, action);
        headers.link = iceServerLinks(access.iceServers(identity));
      }
      res.writeHead(204, headers);
      res.end();
      return;
    }
    if (req.method === 'GET' && allow.startsWith('GET')) {
      await access.authorize(req.headers.authorization, room, action);
      const body = JSON.stringify({ room, viewers: this.viewerCount(room), video: this.#options.backend.featured(room) !== undefined });
      res.writeHead(200, { ...cors, 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (req.method !== 'POST') throw new GatewayError(405, 'method-not-allowed', `${req.method} is not allowed on a ${LABEL[kind]} endpoint`, { allow });
    const { identity } = await access.authorize(req.headers.authorization, room, action);
    if (mediaType(req) !== 'application/sdp') throw new GatewayError(415, 'unsupported-media-type', 'the offer must be sent as Content-Type: application/sdp');
    const name = new URL(req.url ?? '/', 'http://gateway').searchParams.get('name') ?? identity;
    if (!NAME.test(name)) throw new GatewayError(400, 'bad-name', '"name" must be 1–64 characters without control characters');
    const offer = await readBody(req, this.#options.maxBodyBytes);
    if (!offer.startsWith('v=0')) throw new GatewayError(400, 'bad-sdp', 'the body is not an SDP offer (it must start with "v=0")');
    if (this.#resources.size + this.#pending >= this.#options.maxSessions) {
      throw new GatewayError(503, 'over-capacity', `this gateway carries ${this.#options.maxSessions} sessions at most`, { 'retry-after': '10' });
    }
    const id = randomBytes(16).toString('base64url');
    this.#pending++;
    let media: MediaSession;
    try {
      const { backend } = this.#options;
      media = kind === 'whip' ? await backend.ingest({ room, id, name, identity, offer }) : await backend.view({ room, id, participant: rawParticipant, identity, offer });
    } finally {
      this.#pending--;
    }
    const resource: Resource = {
      kind,
      id,
      room,
      name,
      etag: `"${randomBytes(8).toString('hex')}"`,
      ufrag: sdpUfrag(offer),
      media,
      packets: 0,
      lastMediaAt: Date.now(),
    };
    this.#resources.set(id, resource);
    this.#started++;
    media.onEnded?.(() => this.#end(resource, 'media-ended'));
    this.#options.logger?.info({ id, room, name, participant: rawParticipant }, `${LABEL[kind]} session started`);
    res.writeHead(201, {
      ...cors,
      'content-type': 'application/sdp',
      location: `${WHIP_RESOURCE_PREFIX}${id}`,
      etag: resource.etag,
      'accept-patch': 'application/trickle-ice-sdpfrag',
      link: iceServerLinks(access.iceServers(identity)),
      'cache-control': 'no-store',
    });
    res.end(media.answer);
  }

  async #resource(req: IncomingMessage, res: ServerResponse, id: string, cors: Record<string, string>): Promise<void> {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, allow: ALLOWED_METHODS, 'accept-patch': 'application/trickle-ice-sdpfrag' });
      res.end();
      return;
    }
    if (req.method !== 'PATCH' && req.method !== 'DELETE') {
      throw new GatewayError(405, 'method-not-allowed', `${req.method} is not allowed on a WHIP or WHEP session`, { allow: ALLOWED_METHODS });
    }
    const resource = this.#resources.get(id);
    if (!resource) throw new GatewayError(404, 'not-found', 'no such WHIP or WHEP session (it ended, or never existed)');
    await this.#options.access.authorize(req.headers.authorization, resource.room, ACTION[resource.kind]);
    if (req.method === 'DELETE') {
      this.#end(resource, 'deleted');
      res.writeHead(200, { ...cors, 'content-length': '0' });
      res.end();
      return;
    }
    if (mediaType(req) !== 'application/trickle-ice-sdpfrag') {
      throw new GatewayError(415, 'unsupported-media-type', 'PATCH takes Content-Type: application/trickle-ice-sdpfrag', { 'accept-patch': 'application/trickle-ice-sdpfrag' });
    }
    const frag = parseSdpFrag(await readBody(req, this.#options.maxBodyBytes));
    const ifMatch = req.headers['if-match'];
    // RFC 9725 §4.3.2: an ICE restart comes with `If-Match: *` and new credentials.
    if (ifMatch === '*' || (frag.ufrag !== undefined && frag.ufrag !== resource.ufrag)) {
      throw new GatewayError(422, 'ice-restart-unsupported', 'this server does not do ICE restarts: DELETE the session and POST a new offer');
    }
    if (ifMatch !== undefined && ifMatch !== resource.etag) throw new GatewayError(412, 'precondition-failed', `If-Match ${ifMatch} does not name this session's ICE state (${resource.etag})`);
    if (this.#resources.get(id) !== resource) throw new GatewayError(404, 'not-found', 'the session ended');
    await resource.media.addCandidates(frag.candidates);
    res.writeHead(204, { ...cors });
    res.end();
  }

  #checkMedia(): void {
    const now = Date.now();
    for (const r of [...this.#resources.values()]) {
      const packets = r.media.packets();
      if (packets === undefined) {
        this.#end(r, 'media-ended');
      } else if (r.kind === 'whep') {
        // A viewer receives no media: only its transport closing (onEnded) ends it.
      } else if (packets !== r.packets) {
        r.packets = packets;
        r.lastMediaAt = now;
      } else if (now - r.lastMediaAt >= this.#options.mediaTimeoutMs) {
        this.#end(r, 'media-timeout');
      }
    }
  }

  #end(resource: Resource, reason: EndReason): void {
    if (this.#resources.get(resource.id) !== resource) return;
    this.#resources.delete(resource.id);
    this.#ended[reason]++;
    if (resource.kind === 'whip') this.#endedPackets += resource.media.packets() ?? resource.packets;
    resource.media.close();
    this.#options.logger?.info({ id: resource.id, room: resource.room, name: resource.name, reason }, `${LABEL[resource.kind]} session ended`);
  }
}
