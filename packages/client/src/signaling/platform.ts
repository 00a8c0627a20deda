/**
 * What signaling needs from its environment: a WebSocket constructor and fetch. Browsers
 * use their globals; Node gets ws + undici with proxy and TLS options (node-platform.ts).
 */

/** The subset of the WHATWG WebSocket the SDK uses (browsers' and ws' both fit). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface Platform {
  openWebSocket(url: string): WebSocketLike;
  fetch(url: string, init: RequestInit): Promise<Response>;
}

export function browserPlatform(): Platform {
  return {
    openWebSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
    fetch: (url, init) => fetch(url, init),
  };
}
