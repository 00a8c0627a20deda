/**
 * A WHIP/WHEP gateway as `pinhole serve` runs it — a real hub (its Bearer checks, its TURN
 * credentials), the gateway on the hub's port in front of it, a real SFU behind it — on a
 * free port of 127.0.0.1, over plain HTTP.
 */
import { Sfu, type SfuOptions } from '@pinhole/sfu';
import { mintToken, startHub, type HubOptions, type Permission, type RunningHub } from '@pinhole/server';
import { Gateway, SfuBackend, hubAccess, type GatewayOptions } from '../src/index.js';

export const SECRET = 'gateway-test-secret';
export const TURN_URL = 'turn:127.0.0.1:3478?transport=udp';

export interface WhipServer {
  hub: RunningHub;
  sfu: Sfu;
  gateway: Gateway;
  /** `${hub.url}/v1/whip/${room}` */
  endpoint(room: string): string;
  /** `${hub.url}/v1/whep/${room}` or `…/${room}/${participant}` */
  whep(room: string, participant?: string): string;
  token(room: string, perms?: Permission[], identity?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startWhipServer(options: Partial<Omit<GatewayOptions, 'backend' | 'access'>> = {}, hubOptions: HubOptions = {}, sfuOptions: SfuOptions = {}): Promise<WhipServer> {
  const sfu = new Sfu(sfuOptions);
  let gateway: Gateway | undefined;
  const hub = await startHub({
    ...hubOptions,
    host: '127.0.0.1',
    port: 0,
    secret: SECRET,
    turn: { urls: [TURN_URL] },
    routes: (h) => {
      const g = (gateway = new Gateway({ ...options, backend: new SfuBackend(sfu), access: hubAccess(h) }));
      return (req, res) => g.handle(req, res);
    },
  });
  return {
    hub,
    sfu,
    gateway: gateway!,
    endpoint: (room) => `${hub.url}/v1/whip/${room}`,
    whep: (room, participant) => `${hub.url}/v1/whep/${room}${participant === undefined ? '' : `/${participant}`}`,
    token: (room, perms = ['join', 'publish'], identity = 'obs-studio') => mintToken(SECRET, { identity, room, perms }, 600),
    close: async () => {
      gateway?.close();
      sfu.close();
      await hub.close();
    },
  };
}
