/**
 * Prometheus metrics of a gateway (`Gateway.stats()`) and of the media server it works with
 * (`Sfu`), read at scrape time: registered on the hub's registry when `pinhole serve` embeds
 * them (docs/protocol/hub.md §9 lists them).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Sfu } from '@pinhole/sfu';
import type { GatewayStats } from './gateway.js';

export const GATEWAY_METRIC_NAMES = [
  'pinhole_gateway_sessions',
  'pinhole_gateway_viewers',
  'pinhole_gateway_sessions_total',
  'pinhole_gateway_sessions_ended_total',
  'pinhole_gateway_received_packets_total',
  'pinhole_gateway_refused_total',
] as const;

/** Adds the pinhole_gateway_* metrics to `registry`; `stats` (undefined: nothing yet) is read once per scrape. */
export function registerGatewayMetrics(registry: Registry, stats: () => GatewayStats | undefined): void {
  let cached: GatewayStats | undefined;
  const read = (): GatewayStats | undefined => {
    if (!cached) {
      cached = stats();
      setImmediate(() => (cached = undefined));
    }
    return cached;
  };
  const registers = [registry];
  new Gauge({
    name: 'pinhole_gateway_sessions',
    help: 'Live WHIP and WHEP sessions',
    registers,
    collect() {
      this.set(read()?.sessions ?? 0);
    },
  });
  new Gauge({
    name: 'pinhole_gateway_viewers',
    help: 'WHEP viewers, by room',
    labelNames: ['room'],
    registers,
    collect() {
      this.reset();
      for (const [room, n] of Object.entries(read()?.viewers ?? {})) this.set({ room }, n);
    },
  });
  // The gateway's counts only grow; each scrape copies them (reset + inc keeps the counter type).
  const counter = (name: string, help: string, pick: (s: GatewayStats) => number): void => {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        const s = read();
        if (s) this.inc(pick(s));
      },
    });
  };
  const labelled = (name: string, help: string, label: string, pick: (s: GatewayStats) => Record<string, number>): void => {
    new Counter({
      name,
      help,
      labelNames: [label],
      registers,
      collect() {
        this.reset();
        const s = read();
        if (s) for (const [value, n] of Object.entries(pick(s))) if (n > 0) this.inc({ [label]: value }, n);
      },
    });
  };
  counter('pinhole_gateway_sessions_total', 'WHIP and WHEP sessions started', (s) => s.started);
  labelled('pinhole_gateway_sessions_ended_total', 'WHIP and WHEP sessions ended, by reason', 'reason', (s) => s.ended);
  counter('pinhole_gateway_received_packets_total', 'RTP packets received from WHIP publishers', (s) => s.receivedPackets);
  labelled('pinhole_gateway_refused_total', 'WHIP and WHEP requests refused, by error code', 'code', (s) => s.refused);
}

export const SFU_METRIC_NAMES = ['pinhole_sfu_bandwidth_layer_switches_total'] as const;

/** Adds the pinhole_sfu_* metrics to `registry`; `sfu` (undefined: not loaded yet) is read once per scrape. */
export function registerSfuMetrics(registry: Registry, sfu: () => Sfu | undefined): void {
  new Counter({
    name: 'pinhole_sfu_bandwidth_layer_switches_total',
    help: "Simulcast layer switches made by subscribers' bandwidth estimates (REMB), not by their requests",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sfu()?.layerSwitchesByBandwidth() ?? 0);
    },
  });
}
