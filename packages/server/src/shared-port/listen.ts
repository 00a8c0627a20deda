/**
 * The hub's side of the shared port: its HTTP server gets the HTTP connections, the
 * embedded TURN server the STUN/TURN ones, and /metrics counts what came and what was refused.
 */
import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { Counter, type Registry } from 'prom-client';
import * as d from '../defaults.js';
import { SHARED_PORT_PROTOCOLS, SHARED_PORT_REFUSALS, createSharedPort, type SharedPort } from './shared-port.js';

/** `startHub`'s `singlePort` option. */
export interface SinglePortOptions {
  /** Takes STUN/TURN connections, e.g. `TurnServer.acceptConnection`. Absent: HTTP(S) only. */
  stun?: (socket: Socket, transport: 'tcp' | 'tls') => void;
  /**
   * Host for the `turns:host:port?transport=tcp` URL (`turn:` without TLS) of the shared port,
   * added to the `welcome`'s TURN URLs once the port is bound. Needs `stun` and a `turn` config.
   */
  turnHost?: string;
  /** Default DEFAULT_SHARED_PORT_CLASSIFY_TIMEOUT_MS. */
  classifyTimeoutMs?: number;
  /** Default DEFAULT_SHARED_PORT_MAX_PENDING / DEFAULT_SHARED_PORT_MAX_PENDING_PER_SOURCE. */
  maxPending?: number;
  maxPendingPerSource?: number;
}

/** Every metric name the shared port adds, for docs and tests. */
export const SHARED_PORT_METRIC_NAMES = ['pinhole_port_connections_total', 'pinhole_port_refused_total'] as const;

export function hubSharedPort(
  options: SinglePortOptions,
  http: HttpServer,
  tls: { cert: string | Buffer; key: string | Buffer } | undefined,
  registry: Registry,
): SharedPort {
  const accepted = new Counter({
    name: 'pinhole_port_connections_total',
    help: 'Connections on the shared port handed on, by protocol (http, https, turn-tcp, turn-tls)',
    labelNames: ['protocol'],
    registers: [registry],
  });
  const refused = new Counter({
    name: 'pinhole_port_refused_total',
    help: 'Connections on the shared port closed undecided, by reason (over-limit, timeout, garbage, tls-failed, unserved)',
    labelNames: ['reason'],
    registers: [registry],
  });
  // Zeros from the start, so a dashboard sees every series before the first event.
  for (const p of SHARED_PORT_PROTOCOLS) accepted.labels(p).inc(0);
  for (const r of SHARED_PORT_REFUSALS) refused.labels(r).inc(0);
  return createSharedPort({
    tls,
    http: (socket) => http.emit('connection', socket),
    stun: options.stun,
    classifyTimeoutMs: options.classifyTimeoutMs ?? d.DEFAULT_SHARED_PORT_CLASSIFY_TIMEOUT_MS,
    maxPending: options.maxPending ?? d.DEFAULT_SHARED_PORT_MAX_PENDING,
    maxPendingPerSource: options.maxPendingPerSource ?? d.DEFAULT_SHARED_PORT_MAX_PENDING_PER_SOURCE,
    onAccepted: (protocol) => accepted.labels(protocol).inc(),
    onRefused: (reason) => refused.labels(reason).inc(),
  });
}

/** The URL of TURN on the shared port, as `welcome` hands it out. */
export function sharedPortTurnUrl(host: string, port: number, tls: boolean): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return tls ? `turns:${h}:${port}?transport=tcp` : `turn:${h}:${port}?transport=tcp`;
}
