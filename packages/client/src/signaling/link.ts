/**
 * A link is one live connection to the hub on one transport. The hub connection opens
 * links (sending `hello`), feeds them frames, and replaces them when they die; a link
 * knows nothing of ids, retention or reconnecting.
 */
import type { ClientFrame, ErrorCode, HelloFrame, ServerFrame, WelcomeFrame } from '@pinhole/protocol';
import type { Platform } from './platform.js';

export type TransportName = 'ws' | 'sse' | 'poll';
export const TRANSPORTS: readonly TransportName[] = ['ws', 'sse', 'poll'];

export interface Link {
  readonly transport: TransportName;
  /** Frames already stamped with their id and piggy-backed ack. */
  send(frames: ClientFrame[]): void;
  /** A standalone cumulative ack (poll links ack with their next request instead). */
  ack(seq: number): void;
  /** A liveness probe: the hub answers with a loose `pong`. */
  ping(): void;
  close(): void;
}

export interface LinkContext {
  /** Hub base URL: http(s)://host:port (a trailing path prefix is kept). */
  base: string;
  platform: Platform;
  /** How long opening may take (hello → welcome, or the first bytes of a stream). */
  openTimeoutMs: number;
  /** Highest seq received so far (read at each poll / stream open). */
  lastSeq(): number;
  frame(frame: ServerFrame, link: Link): void;
  /** The hub reported `lastId` (POST reply, pong). */
  confirmed(lastId: number): void;
  /** Any sign of life (a frame, a heartbeat comment, a completed poll). */
  alive(link: Link): void;
  closed(link: Link, error: LinkError): void;
}

export type OpenLink = (ctx: LinkContext, hello: HelloFrame) => Promise<{ link: Link; welcome: WelcomeFrame }>;

/**
 * Why a link failed or closed. `code` is the hub's error code when the hub said why
 * (refused hello, `replaced`, `overflow`); `status` the HTTP status when there was one.
 */
export class LinkError extends Error {
  constructor(
    message: string,
    readonly code?: ErrorCode | 'timeout' | 'network' | 'closed',
    readonly status?: number,
  ) {
    super(message);
    this.name = 'LinkError';
  }
}

/** Error codes after which trying another transport or reconnecting cannot help. */
export const FATAL_CODES: ReadonlySet<string> = new Set(['unauthorized', 'token-expired', 'forbidden', 'origin-not-allowed', 'replaced']);

export function joinUrl(base: string, path: string, query?: Record<string, string | number>): string {
  const url = new URL(base.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, String(v));
  return url.toString();
}

/** Reads the hub's error body (`{type:'error', code, message}`) from a failed HTTP answer. */
export async function errorFromResponse(res: Response, what: string): Promise<LinkError> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  const e = body as { type?: string; code?: ErrorCode; message?: string } | undefined;
  if (e?.type === 'error' && e.code) return new LinkError(`${what}: ${e.code}: ${e.message ?? ''}`, e.code, res.status);
  return new LinkError(`${what}: HTTP ${res.status}`, 'network', res.status);
}
