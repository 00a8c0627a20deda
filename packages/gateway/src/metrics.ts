/**
 * Prometheus metrics of a gateway (`Gateway.stats()`) and of the media server it works with
 * (`Sfu`), read at scrape time: registered on the hub's registry when `pinhole serve` embeds
 * them (docs/protocol/hub.md §9 lists them).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Sfu } from '@pinhole/sfu';
import type { GatewayStats } from './gateway.js';

/**
 * Makes counters that copy, at each scrape, a count `source` keeps and that only grows (the
 * gateway's and the SFU's): reset + inc keeps the Prometheus counter type.
 */
function copiedCounter<S>(registers: Registry[], source: () => S | undefined) {
  return (name: string, help: string, pick: (s: S) => number): void => {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        const s = source();
        if (s) this.inc(pick(s));
      },
    });
  };
}

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
  const counter = copiedCounter(registers, read);
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

export const SFU_METRIC_NAMES = [
  'pinhole_sfu_rooms',
  'pinhole_sfu_publishers',
  'pinhole_sfu_subscribers',
  'pinhole_sfu_received_packets_total',
  'pinhole_sfu_received_bytes_total',
  'pinhole_sfu_forwarded_packets_total',
  'pinhole_sfu_forwarded_bytes_total',
  'pinhole_sfu_keyframe_requests_total',
  'pinhole_sfu_keyframe_requests_received_total',
  'pinhole_sfu_nacks_total',
  'pinhole_sfu_nacked_packets_total',
  'pinhole_sfu_retransmitted_packets_total',
  'pinhole_sfu_bandwidth_layer_switches_total',
  'pinhole_sfu_room_bitrate_bits_per_second',
] as const;

/** Adds the pinhole_sfu_* metrics to `registry`; `sfu` (undefined: not loaded yet) is read once per scrape. */
export function registerSfuMetrics(registry: Registry, sfu: () => Sfu | undefined): void {
  const registers = [registry];
  const gauge = (name: string, help: string, read: (s: Sfu) => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const s = sfu();
        this.set(s ? read(s) : 0);
      },
    });
  };
  const counter = copiedCounter(registers, sfu);
  gauge('pinhole_sfu_rooms', 'Rooms the SFU serves (with a publisher, subscriber or viewer)', (s) => s.counts().rooms);
  gauge('pinhole_sfu_publishers', 'Publisher transports (members and WHIP streams)', (s) => s.counts().publishers);
  gauge('pinhole_sfu_subscribers', 'Transports sending media out: subscriber sessions and WHEP viewers', (s) => s.counts().subscribers);
  counter('pinhole_sfu_received_packets_total', 'RTP packets received from publishers', (s) => s.counters.receivedPackets);
  counter('pinhole_sfu_received_bytes_total', 'RTP bytes received from publishers', (s) => s.counters.receivedBytes);
  counter('pinhole_sfu_forwarded_packets_total', 'RTP packets forwarded to subscribers and viewers', (s) => s.counters.forwardedPackets);
  counter('pinhole_sfu_forwarded_bytes_total', 'RTP bytes forwarded to subscribers and viewers', (s) => s.counters.forwardedBytes);
  counter('pinhole_sfu_keyframe_requests_total', 'Keyframe requests (PLI) sent to publishers: layer switches, lost pictures', (s) => s.counters.keyframeRequests);
  counter('pinhole_sfu_keyframe_requests_received_total', 'Keyframe requests (PLI, FIR) received from subscribers and viewers', (s) => s.counters.keyframeRequestsReceived);
  counter('pinhole_sfu_nacks_total', 'Generic NACKs (RFC 4585) received from subscribers and viewers', (s) => s.counters.nacks);
  counter('pinhole_sfu_nacked_packets_total', 'RTP packets those NACKs asked for again', (s) => s.counters.nackedPackets);
  counter('pinhole_sfu_retransmitted_packets_total', "RTP packets resent on NACK from the SFU's history (the rest were too old)", (s) => s.counters.retransmittedPackets);
  counter('pinhole_sfu_bandwidth_layer_switches_total', "Simulcast layer switches made by subscribers' bandwidth estimates (REMB), not by their requests", (s) => s.layerSwitchesByBandwidth());
  new Gauge({
    name: 'pinhole_sfu_room_bitrate_bits_per_second',
    help: "What a room's publishers send, all tracks and layers",
    labelNames: ['room'],
    registers,
    collect() {
      this.reset();
      for (const [room, bitrate] of sfu()?.roomBitrates() ?? []) this.set({ room }, bitrate);
    },
  });
}
