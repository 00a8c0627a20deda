/**
 * Node's signaling platform: `ws` for WebSocket and undici's fetch, both honouring
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY (HTTP CONNECT tunnels, decided per URL by
 * proxy-from-env) and accepting a custom CA or `insecure` for a self-signed dev hub.
 */
import WebSocket from 'ws';
import { Agent, ProxyAgent, fetch as undiciFetch, type Dispatcher } from 'undici';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';
import type { Platform, WebSocketLike } from '@pinhole/client';

export interface NodeTlsOptions {
  /** Extra CA certificate(s) (PEM) to trust, e.g. the hub's self-signed certificate. */
  ca?: string | string[];
  /** Accept any certificate (development only). */
  insecure?: boolean;
  /** Proxy URL to use instead of the environment's (`false` = never use a proxy). */
  proxy?: string | false;
}

/** The proxy for `url` (ws:/wss: looked up as http:/https:), or '' for a direct connection. */
export function proxyFor(url: string, override?: string | false): string {
  if (override === false) return '';
  if (override) return override;
  return getProxyForUrl(url.replace(/^ws/, 'http'));
}

export function nodePlatform(options: NodeTlsOptions = {}): Platform {
  const tls = { ca: options.ca, rejectUnauthorized: !options.insecure };
  const dispatchers = new Map<string, Dispatcher>();
  const dispatcherFor = (proxy: string): Dispatcher => {
    let d = dispatchers.get(proxy);
    if (!d) {
      d = proxy ? new ProxyAgent({ uri: proxy, requestTls: tls, proxyTls: tls }) : new Agent({ connect: tls });
      dispatchers.set(proxy, d);
    }
    return d;
  };
  return {
    openWebSocket(url) {
      const proxy = proxyFor(url, options.proxy);
      const ws = new WebSocket(url, {
        ...tls,
        agent: proxy ? new HttpsProxyAgent(proxy, tls) : undefined,
        perMessageDeflate: false,
      });
      return ws as unknown as WebSocketLike;
    },
    fetch(url, init) {
      const dispatcher = dispatcherFor(proxyFor(url, options.proxy));
      return undiciFetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
    },
  };
}
