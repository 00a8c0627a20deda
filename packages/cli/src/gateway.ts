/**
 * The WHIP gateway on `pinhole serve`'s port (docs/whip-whep.md): streams published with
 * WHIP go into the room through the embedded media server. Credentials are the hub's: a
 * token with `publish` in the room, an API key or the secret (anyone in dev mode).
 *
 * The gateway and the media server (werift, node-datachannel: ~0.7 s of module loading) are
 * loaded on the first gateway request, so that serve starts as fast as before.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Gateway } from '@pinhole/gateway';
import { registerGatewayMetrics } from '@pinhole/gateway/metrics';
import type { Sfu } from '@pinhole/sfu';
import type { HubServer } from '@pinhole/server';

/** The paths Gateway.handle serves (packages/gateway/src/gateway.ts). */
const GATEWAY_PATH = /^\/v1\/(whip|whep|resources)\//;

export interface EmbeddedGateway {
  /** The hub's `routes` option: claims /v1/whip/…, /v1/whep/… and /v1/resources/…. */
  routes(hub: HubServer): (req: IncomingMessage, res: ServerResponse) => boolean;
  close(): void;
}

export function embeddedGateway(logger: Logger): EmbeddedGateway {
  let loading: Promise<{ gateway: Gateway; sfu: Sfu }> | undefined;
  let loaded: Gateway | undefined;
  let closed = false;
  const load = (hub: HubServer): Promise<{ gateway: Gateway; sfu: Sfu }> =>
    (loading ??= Promise.all([import('@pinhole/gateway'), import('@pinhole/sfu')]).then(([g, s]) => {
      const sfu = new s.Sfu();
      const gateway = new g.Gateway({ backend: new g.SfuBackend(sfu), access: g.hubAccess(hub), logger: logger.child({ component: 'gateway' }) });
      if (closed) {
        gateway.close();
        sfu.close();
      }
      loaded = gateway;
      return { gateway, sfu };
    }));
  return {
    routes: (hub) => {
      registerGatewayMetrics(hub.metrics.registry, () => loaded?.stats());
      return (req, res) => {
        if (closed || !GATEWAY_PATH.test(req.url ?? '/')) return false;
        load(hub).then(
          ({ gateway }) => {
            // A path under the prefixes that is not the gateway's (a malformed id): the hub's 404.
            if (!gateway.handle(req, res) && !hub.request(req, res)) res.writeHead(404).end();
          },
          (err: unknown) => {
            logger.error({ err }, 'the WHIP gateway failed to load');
            if (!res.headersSent) res.writeHead(503, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ type: 'error', code: 'unavailable', message: 'the WHIP gateway is not available on this server' }));
          },
        );
        return true;
      };
    },
    close() {
      closed = true;
      void loading?.then(({ gateway, sfu }) => {
        gateway.close();
        sfu.close();
      });
    },
  };
}
