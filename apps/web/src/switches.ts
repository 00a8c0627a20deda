/**
 * Diagnostic URL switches: `?transport=ws|sse|poll` forces one signaling transport,
 * `?relay=1` forces TURN (iceTransportPolicy 'relay'), `?topology=mesh|sfu|auto` where media
 * goes (peer-to-peer, through the SFU, or by room size: the default). Unknown values are reported, not
 * silently ignored, so a typo in a support ticket's link is visible on the page.
 */
import type { ConnectOptions, TransportName } from '@pinhole/client';

const TRANSPORT_NAMES: readonly TransportName[] = ['ws', 'sse', 'poll'];
const TOPOLOGIES = ['mesh', 'sfu', 'auto'] as const;

export interface Switches {
  /** The forced transport, when `?transport=` names one. */
  transport?: TransportName;
  relay: boolean;
  /** Where media goes, when `?topology=` names it (the SDK's default is `auto`). */
  topology?: (typeof TOPOLOGIES)[number];
  /** Plain-words notes about switches that were given but not understood. */
  problems: string[];
}

export function readSwitches(search: string): Switches {
  const params = new URLSearchParams(search);
  const switches: Switches = { relay: false, problems: [] };
  const transport = params.get('transport');
  if (transport !== null) {
    if ((TRANSPORT_NAMES as readonly string[]).includes(transport)) switches.transport = transport as TransportName;
    else switches.problems.push(`?transport=${transport} is not one of ws, sse or poll; using the normal ladder`);
  }
  const relay = params.get('relay');
  if (relay !== null) {
    if (relay === '1' || relay === 'true' || relay === '') switches.relay = true;
    else if (relay !== '0' && relay !== 'false') switches.problems.push(`?relay=${relay} is not 1 or 0; not forcing TURN`);
  }
  const topology = params.get('topology');
  if (topology !== null) {
    if ((TOPOLOGIES as readonly string[]).includes(topology)) switches.topology = topology as Switches['topology'];
    else switches.problems.push(`?topology=${topology} is not one of mesh, sfu or auto; choosing by room size`);
  }
  return switches;
}

/** The SDK options the switches stand for. */
export function connectOptionsOf(switches: Switches): ConnectOptions {
  const options: ConnectOptions = {};
  if (switches.transport) options.transports = [switches.transport];
  if (switches.relay) options.iceTransportPolicy = 'relay';
  return options;
}

/** Only the diagnostic switches of `search`, to carry them from the landing page into the call. */
export function switchesQuery(search: string): string {
  const params = new URLSearchParams(search);
  const kept = new URLSearchParams();
  for (const key of ['transport', 'relay', 'topology']) {
    const value = params.get(key);
    if (value !== null) kept.set(key, value);
  }
  const text = kept.toString();
  return text ? `?${text}` : '';
}
