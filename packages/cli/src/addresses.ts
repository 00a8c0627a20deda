/** The URLs `serve` prints: where a browser on this machine or the LAN can reach the hub. */
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

export type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

const isWildcard = (host: string): boolean => host === '0.0.0.0' || host === '::' || host === '';

/** Non-loopback addresses a wildcard listener is reachable on; IPv6 only when listening on `::`. */
export function lanAddresses(host: string, interfaces: Interfaces = networkInterfaces()): string[] {
  if (!isWildcard(host)) return [];
  const out: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4') out.push(a.address);
      // Link-local IPv6 needs a zone id, which browsers do not accept in URLs.
      else if (host === '::' && !a.address.toLowerCase().startsWith('fe80:')) out.push(a.address);
    }
  }
  return out;
}

const hostInUrl = (h: string): string => (h.includes(':') ? `[${h}]` : h);

export interface ServedUrls {
  /** http(s) page URL on this machine, e.g. https://localhost:8443/ */
  local: string;
  /** WebSocket signaling URL, e.g. wss://localhost:8443/v1/ws */
  ws: string;
  /** http(s) page URLs on the LAN. */
  lan: string[];
}

export function servedUrls(host: string, port: number, tls: boolean, interfaces?: Interfaces): ServedUrls {
  const scheme = tls ? 'https' : 'http';
  const local = isWildcard(host) ? 'localhost' : host;
  // The scheme's default port (443 with --port 443) is left out, as browsers show it.
  const p = port === (tls ? 443 : 80) ? '' : `:${port}`;
  return {
    local: `${scheme}://${hostInUrl(local)}${p}/`,
    ws: `${tls ? 'wss' : 'ws'}://${hostInUrl(local)}${p}/v1/ws`,
    lan: lanAddresses(host, interfaces).map((a) => `${scheme}://${hostInUrl(a)}${p}/`),
  };
}

/** The host clients should put in `turn:` URLs: the listen address, or the first LAN IPv4. */
export function publicHost(host: string, interfaces?: Interfaces): string {
  if (!isWildcard(host)) return host;
  return lanAddresses('0.0.0.0', interfaces)[0] ?? '127.0.0.1';
}
