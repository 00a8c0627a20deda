import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProtocolError, checkFrameDepth, isRoomName, type Json } from '@pinhole/protocol';
import { DEV_GRANT } from './auth.js';
import { bearerGrant } from './bearer.js';
import type { HubCore } from './core.js';
import type { HubAccess } from './defaults.js';
import { readBody, sendJson } from './http-util.js';

/** `from` of frames sent through the REST API: no hub-assigned peer id starts with '@'. */
export const SERVER_PEER = '@server';

/**
 * The REST API, for servers that can only dial out (serverless functions, egress-only
 * containers): one HTTPS request relays a signal, no connection is kept.
 */
export class RestApi {
  constructor(
    private readonly hub: Pick<HubCore, 'roomPeers' | 'relay'>,
    private readonly access: Pick<HubAccess, 'secret' | 'apiKeys'>,
    private readonly maxBodyBytes: number,
    private readonly now: () => number,
  ) {}

  /** Bearer: the hub secret, an API key, or a token with the `admin` permission. */
  async authorize(req: IncomingMessage): Promise<void> {
    const grant = await bearerGrant(this.access, req.headers.authorization, this.now());
    if (grant !== DEV_GRANT && !grant.perms.has('admin')) throw new ProtocolError('forbidden', 'this token lacks the admin permission');
  }

  /** `GET /v1/rooms/{room}/peers` */
  async peers(req: IncomingMessage, res: ServerResponse, room: string): Promise<void> {
    await this.authorize(req);
    this.#checkRoom(room);
    sendJson(res, 200, { room, peers: await this.hub.roomPeers(room) });
  }

  /** `POST /v1/rooms/{room}/messages` with `{to?, data, id?}` */
  async message(req: IncomingMessage, res: ServerResponse, room: string): Promise<void> {
    await this.authorize(req);
    this.#checkRoom(room);
    const body = await readBody(req, this.maxBodyBytes);
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (err) {
      throw new ProtocolError('bad-json', `body is not valid JSON: ${(err as Error).message}`);
    }
    checkFrameDepth(value); // before anything encodes `data` again
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProtocolError('bad-frame', 'body must be a JSON object {to?, data, id?}');
    const { to, data, id } = value as { to?: unknown; data?: unknown; id?: unknown };
    if (!('data' in value)) throw new ProtocolError('bad-frame', '"data" is required');
    if (to !== undefined && typeof to !== 'string') throw new ProtocolError('bad-frame', '"to" must be a peer id');
    if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > 64)) throw new ProtocolError('bad-frame', '"id" must be a string of 1–64 characters');
    sendJson(res, 200, await this.hub.relay(room, to, data as Json, id));
  }

  #checkRoom(room: string): void {
    if (!isRoomName(room)) throw new ProtocolError('bad-frame', 'room names match [A-Za-z0-9_.~-]{1,128} and are not only dots');
  }
}
