import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProtocolError, isRoomName, type Json } from '@pinhole/protocol';
import { keyMatches, verifyToken } from './auth.js';
import type { Hub } from './hub.js';
import { readBody, sendJson } from './http-util.js';
import { BoundedSet } from './bounded-set.js';

/** `from` of frames sent through the REST API: no hub-assigned peer id starts with '@'. */
export const SERVER_PEER = '@server';

/**
 * The REST API, for servers that can only dial out (serverless functions, egress-only
 * containers): one HTTPS request relays a signal, no connection is kept.
 */
export class RestApi {
  /** Message ids already relayed, so a retried POST is not delivered twice. */
  readonly #seen = new BoundedSet<string>(4096);

  constructor(private readonly hub: Hub) {}

  /** Bearer: the hub secret, an API key, or a token with the `admin` permission. */
  async authorize(req: IncomingMessage): Promise<void> {
    const { secret, apiKeys } = this.hub.options;
    if (secret === undefined && apiKeys.length === 0) return; // dev mode
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!match) throw new ProtocolError('unauthorized', 'send "Authorization: Bearer <secret, API key or admin token>"');
    const bearer = match[1]!;
    if (keyMatches(bearer, [secret, ...apiKeys])) return;
    if (secret === undefined || bearer.split('.').length !== 3) throw new ProtocolError('unauthorized', 'unknown API key');
    const grant = await verifyToken(secret, bearer, this.hub.options.now());
    if (!grant.perms.has('admin')) throw new ProtocolError('forbidden', 'this token lacks the admin permission');
  }

  /** `GET /v1/rooms/{room}/peers` */
  async peers(req: IncomingMessage, res: ServerResponse, room: string): Promise<void> {
    await this.authorize(req);
    this.#checkRoom(room);
    sendJson(res, 200, { room, peers: this.hub.options.rooms.members(room) });
  }

  /** `POST /v1/rooms/{room}/messages` with `{to?, data, id?}` */
  async message(req: IncomingMessage, res: ServerResponse, room: string): Promise<void> {
    await this.authorize(req);
    this.#checkRoom(room);
    const body = await readBody(req, this.hub.options.maxFrameBytes);
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (err) {
      throw new ProtocolError('bad-json', `body is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProtocolError('bad-frame', 'body must be a JSON object {to?, data, id?}');
    const { to, data, id } = value as { to?: unknown; data?: unknown; id?: unknown };
    if (!('data' in value)) throw new ProtocolError('bad-frame', '"data" is required');
    if (to !== undefined && typeof to !== 'string') throw new ProtocolError('bad-frame', '"to" must be a peer id');
    if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > 64)) throw new ProtocolError('bad-frame', '"id" must be a string of 1–64 characters');
    const { rooms, bus } = this.hub.options;
    if (to !== undefined && !rooms.has(room, to)) throw new ProtocolError('unknown-peer', `peer "${to}" is not in room "${room}"`);
    // Only a delivered message consumes its id: a retry after an error is tried again.
    if (id !== undefined && !this.#seen.add(`${room}\n${id}`)) {
      sendJson(res, 200, { delivered: 0, duplicate: true });
      return;
    }
    if (to !== undefined) {
      bus.publish(to, { type: 'signal', from: SERVER_PEER, room, data: data as Json });
      sendJson(res, 200, { delivered: 1 });
      return;
    }
    const members = rooms.members(room);
    for (const member of members) bus.publish(member.peer, { type: 'broadcast', from: SERVER_PEER, room, data: data as Json });
    sendJson(res, 200, { delivered: members.length });
  }

  #checkRoom(room: string): void {
    if (!isRoomName(room)) throw new ProtocolError('bad-frame', 'room names match [A-Za-z0-9_.~-]{1,128}');
  }
}
