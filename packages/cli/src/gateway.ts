/**
 * The WHIP/WHEP gateway on `pinhole serve`'s port (docs/whip-whep.md): streams published with
 * WHIP go into the room through the embedded media server, WHEP players watch them. Credentials
 * are the hub's: a token with `publish` (WHIP) or `join` (WHEP) in the room, an API key or the
 * secret (anyone in dev mode).
 *
 * The gateway is loaded on the first gateway request; the media server it works with is
 * serve's one embedded SFU (sfu.ts), shared with the SFU service member of the hub's rooms.
 * Its metrics, and the SFU's, are registered at once (zero until they load).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Gateway } from '@pinhole/gateway';
import { registerGatewayMetrics, registerSfuMetrics } from '@pinhole/gateway/metrics';
import type { HubServer } from '@pinhole/server';
import type { EmbeddedSfu } from './sfu.js';

/** The paths Gateway.handle serves (packages/gateway/src/gateway.ts). */
const GATEWAY_PATH = /^\/v1\/(whip|whep|resources)\//;

export interface EmbeddedGateway {
  /** The hub's `routes` option: claims /v1/whip/…, /v1/whep/… and /v1/resources/…. */
  routes(hub: HubServer): (req: IncomingMessage, res: ServerResponse) => boolean;
  close(): void;
}

/** `media`: the SFU the gateway works with (closed by its owner, not here). */
export function embeddedGateway(logger: Logger, media: EmbeddedSfu): EmbeddedGateway {
  let loading: Promise<Gateway> | undefined;
  let loaded: Gateway | undefined;
  let closed = false;
  const load = (hub: HubServer): Promise<Gateway> =>
    (loading ??= Promise.all([import('@pinhole/gateway'), media.sfu()]).then(([g, sfu]) => {
      const gateway = new g.Gateway({ backend: new g.SfuBackend(sfu), access: g.hubAccess(hub), logger: logger.child({ component: 'gateway' }) });
      if (closed) gateway.close();
      loaded = gateway;
      return gateway;
    }));
  return {
    routes: (hub) => {
      registerGatewayMetrics(hub.metrics.registry, () => loaded?.stats());
      registerSfuMetrics(hub.metrics.registry, () => media.loaded());
      return (req, res) => {
        if (closed || !GATEWAY_PATH.test(req.url ?? '/')) return false;
        load(hub).then(
          (gateway) => {
            // A path under the prefixes that is not the gateway's (a malformed id): the hub's 404.
            if (!gateway.handle(req, res) && !hub.request(req, res)) res.writeHead(404).end();
          },
          (err: unknown) => {
            logger.error({ err }, 'the WHIP/WHEP gateway failed to load');
            if (!res.headersSent) res.writeHead(503, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ type: 'error', code: 'unavailable', message: 'the WHIP/WHEP gateway is not available on this server' }));
          },
        );
        return true;
      };
    },
    close() {
      closed = true;
      void loading?.then((gateway) => gateway.close());
    },
  };
}
