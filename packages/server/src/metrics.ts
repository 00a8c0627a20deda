import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClientFrameType, ErrorCode } from '@pinhole/protocol';
import type { CoreStats } from './core.js';
import type { TransportName } from './transports/transport.js';

/** What the hub exposes at /metrics. Each hub has its own registry (tests run several). */
export interface HubMetrics {
  readonly registry: Registry;
  readonly framesOut: Counter;
  readonly resumes: Counter;
  frameIn(type: ClientFrameType): void;
  error(code: ErrorCode): void;
}

export interface HubGauges {
  connections(): Record<TransportName, number>;
  stats(): CoreStats;
}

/**
 * `node`: the node id, added as a label to every metric when several hub nodes share a
 * Redis (so one Prometheus can scrape them all apart).
 */
export function createMetrics(gauges: () => HubGauges, node?: string): HubMetrics {
  const registry = new Registry();
  if (node !== undefined) registry.setDefaultLabels({ node });
  collectDefaultMetrics({ register: registry });
  const framesIn = new Counter({ name: 'pinhole_frames_in_total', help: 'Client frames received, by type', labelNames: ['type'], registers: [registry] });
  const framesOut = new Counter({ name: 'pinhole_frames_out_total', help: 'Sequenced frames sent to sessions', registers: [registry] });
  const errors = new Counter({ name: 'pinhole_errors_total', help: 'Error frames sent, by code', labelNames: ['code'], registers: [registry] });
  const resumes = new Counter({ name: 'pinhole_resumes_total', help: 'Sessions resumed', registers: [registry] });
  new Gauge({
    name: 'pinhole_connections',
    help: 'Open client connections, by transport (long-poll: requests being held)',
    labelNames: ['transport'],
    registers: [registry],
    collect() {
      for (const [transport, n] of Object.entries(gauges().connections())) this.set({ transport }, n);
    },
  });
  const statGauge = (name: string, help: string, pick: (s: CoreStats) => number | undefined): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const value = pick(gauges().stats());
        if (value !== undefined) this.set(value);
      },
    });
  };
  statGauge('pinhole_sessions', 'Live sessions (attached or in their grace period); with a shared Redis: sessions attached to this node', (s) => s.sessions);
  // With a shared Redis only Redis knows these (see the pinhole_cluster_* gauges instead).
  if (node === undefined) {
    statGauge('pinhole_sessions_detached', 'Sessions without a transport for over 1 s, in their grace period waiting for a resume', (s) => s.detached);
    statGauge('pinhole_replay_buffer_frames', 'Unacknowledged frames held for resume, all sessions', (s) => s.unacked);
    statGauge('pinhole_replay_buffer_max_frames', 'Deepest replay buffer of any session', (s) => s.maxUnacked);
    statGauge('pinhole_rooms', 'Rooms with at least one peer', (s) => s.rooms);
    statGauge('pinhole_peers', 'Room memberships (a peer in two rooms counts twice)', (s) => s.memberships);
  }

  const byType = new Map<string, Counter<'type'>['labels'] extends (...a: never[]) => infer R ? R : never>();
  return {
    registry,
    framesOut,
    resumes,
    frameIn(type) {
      let child = byType.get(type);
      if (!child) {
        child = framesIn.labels(type);
        byType.set(type, child);
      }
      child.inc();
    },
    error(code) {
      errors.labels(code).inc();
    },
  };
}
