/**
 * Prometheus metrics of a TURN server (@pinhole/turn `server.stats()`), read at scrape time:
 * registered on the hub's registry when `pinhole serve` embeds TURN, or on a registry of their
 * own for a standalone `pinhole turn`.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { TurnStats } from '@pinhole/turn';

/** Every metric name this module registers, for docs and tests. */
export const TURN_METRIC_NAMES = [
  'pinhole_turn_allocations',
  'pinhole_turn_permissions',
  'pinhole_turn_channels',
  'pinhole_turn_connections',
  'pinhole_turn_allocations_total',
  'pinhole_turn_relayed_packets_total',
  'pinhole_turn_relayed_bytes_total',
  'pinhole_turn_dropped_packets_total',
  'pinhole_turn_auth_failures_total',
  'pinhole_turn_refused_peers_total',
  'pinhole_turn_quota_rejections_total',
  'pinhole_turn_malformed_packets_total',
  'pinhole_turn_error_responses_total',
] as const;

/** Adds the pinhole_turn_* metrics to `registry`; `stats` is called once per scrape. */
export function registerTurnMetrics(registry: Registry, stats: () => TurnStats): void {
  // One stats() call serves every metric of a scrape: they are collected back to back,
  // without a macrotask in between, so the snapshot is dropped right after.
  let cached: TurnStats | undefined;
  const read = (): TurnStats => {
    if (!cached) {
      cached = stats();
      setImmediate(() => (cached = undefined));
    }
    return cached;
  };
  const registers = [registry];
  const gauge = (name: string, help: string, pick: (s: TurnStats) => number): void => {
    new Gauge({ name, help, registers, collect() { this.set(pick(read())); } });
  };
  // The server's counters only grow; each scrape copies them (reset + inc keeps the counter type).
  const counter = (name: string, help: string, pick: (s: TurnStats) => number): void => {
    new Counter({ name, help, registers, collect() { this.reset(); this.inc(pick(read())); } });
  };
  const labelled = <L extends string>(name: string, help: string, label: L, pick: (s: TurnStats) => Record<string, number>): void => {
    new Counter({
      name,
      help,
      labelNames: [label],
      registers,
      collect() {
        this.reset();
        for (const [value, n] of Object.entries(pick(read()))) this.inc({ [label]: value } as Record<L, string>, n);
      },
    });
  };

  gauge('pinhole_turn_allocations', 'TURN allocations (pending ones included)', (s) => s.allocations);
  gauge('pinhole_turn_permissions', 'Live TURN permissions over all allocations', (s) => s.permissions);
  gauge('pinhole_turn_channels', 'Live TURN channel bindings over all allocations', (s) => s.channels);
  gauge('pinhole_turn_connections', 'Open TURN client connections over TCP and TLS', (s) => s.connections);
  counter('pinhole_turn_allocations_total', 'TURN allocations that became active', (s) => s.allocationsCreated);
  labelled('pinhole_turn_relayed_packets_total', 'Datagrams relayed, by direction', 'direction', (s) => ({ to_peer: s.packetsToPeers, from_peer: s.packetsFromPeers }));
  labelled('pinhole_turn_relayed_bytes_total', 'Payload bytes relayed, by direction', 'direction', (s) => ({ to_peer: s.bytesToPeers, from_peer: s.bytesFromPeers }));
  labelled('pinhole_turn_dropped_packets_total', 'Datagrams dropped, by reason', 'reason', (s) => ({ bandwidth: s.droppedBandwidth, no_permission: s.droppedNoPermission }));
  counter('pinhole_turn_auth_failures_total', 'TURN requests with wrong, unknown or expired credentials', (s) => s.authFailures);
  counter('pinhole_turn_refused_peers_total', 'Peer addresses refused by the peer filter (403 or a dropped Send)', (s) => s.refusedPeers);
  counter('pinhole_turn_quota_rejections_total', 'Allocate requests refused by a quota (486)', (s) => s.quotaRejections);
  counter('pinhole_turn_refused_connections_total', 'TURN TCP/TLS connections closed on arrival by a connection limit', (s) => s.refusedConnections);
  counter('pinhole_turn_malformed_packets_total', 'Packets that were neither STUN nor ChannelData', (s) => s.malformedPackets);
  labelled('pinhole_turn_error_responses_total', 'STUN error responses sent, by code', 'code', (s) => Object.fromEntries(Object.entries(s.errorResponses)));
}

/** A registry of its own (process metrics + pinhole_turn_*), for a TURN server without a hub. */
export function createTurnMetricsRegistry(stats: () => TurnStats): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerTurnMetrics(registry, stats);
  return registry;
}
