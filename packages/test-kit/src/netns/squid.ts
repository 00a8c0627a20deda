/**
 * A strict corporate proxy on the public segment: squid in the public namespace on
 * PROXY_URL, CONNECT allowed to HTTPS ports only (443, and the test hub's 8443), nothing
 * else. The client's namespace can then reach the hub through CONNECT and TURN only as
 * TURN/TLS on 443, tunnelled by the same proxy. Its access log shows each tunnel.
 * (../squid.ts runs squid on loopback for the SDK's proxy tests;
 * this one lives inside a namespace and answers other namespaces.)
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SQUID, writeSquidConfig } from '../squid.js';
import { PUBLIC_IP, type Topology } from './topology.js';

export const PROXY_PORT = 3128;
export const PROXY_URL = `http://${PUBLIC_IP}:${PROXY_PORT}`;

/**
 * The nftables script of a host whose only way out is this proxy: loopback, replies, and
 * new TCP connections to PROXY_URL; everything else, in and out, is dropped.
 */
export const PROXY_ONLY_FIREWALL = `table inet proxyonly {
  chain input { type filter hook input priority filter; policy drop;
    iif "lo" accept
    ct state established,related accept
  }
  chain output { type filter hook output priority filter; policy drop;
    oif "lo" accept
    ct state established,related accept
    ip daddr ${PUBLIC_IP} tcp dport ${PROXY_PORT} accept
  }
}`;

export interface NamespacedSquid {
  /** squid's access log: one line per tunnel, written when the tunnel closes. */
  log(): string;
  stop(): Promise<void>;
}

export async function squidIn(t: Topology, sslPorts: number[]): Promise<NamespacedSquid> {
  if (!SQUID) throw new Error('squid is not installed (apt-get install squid); scripts/test.sh installs it');
  const { dir, conf } = writeSquidConfig(
    [
      `http_port ${PUBLIC_IP}:${PROXY_PORT}`,
      `acl SSL_ports port ${sslPorts.join(' ')}`,
      'acl CONNECT method CONNECT',
      'http_access deny CONNECT !SSL_ports',
      'http_access allow CONNECT', // only the test's namespaces can reach it
      'http_access deny all',
    ],
    'pinhole-netns',
  );
  const proc = t.spawn(t.pub, [SQUID, '-N', '-d', '1', '-f', conf]);
  try {
    await proc.waitFor(/Accepting HTTP Socket connections/, 20_000);
  } catch (err) {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const log = join(dir, 'access.log');
  return {
    log: () => (existsSync(log) ? readFileSync(log, 'utf8') : ''),
    stop: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
