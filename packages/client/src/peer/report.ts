/**
 * A connectivity summary computed from getStats(): how the two peers reach each other
 * (candidate types, protocol, relay), round-trip time and bitrates. Pure: the caller keeps
 * the previous report to get rates. Reads what Chromium and Firefox report, and what
 * node-datachannel's minimal getStats reports (transport + candidate-pair + candidates, no
 * protocol field, round-trip time in milliseconds).
 */

export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

export interface ConnectivityReport {
  state: RTCPeerConnectionState;
  /** Connection generation the stats belong to. */
  gen: number;
  /** Of the stats sample, in ms. */
  timestamp: number;
  /** Types of the candidates of the selected pair (undefined until one is selected). */
  candidateType: { local?: CandidateType; remote?: CandidateType };
  /** Transport protocol of the selected pair's local candidate. */
  protocol?: 'udp' | 'tcp';
  /** How this side reaches its TURN server, when the local candidate is relayed. */
  relayProtocol?: 'udp' | 'tcp' | 'tls';
  rttMs?: number;
  bytesSent: number;
  bytesReceived: number;
  /** bits/s since the previous report; undefined without one. */
  bitrate: { in?: number; out?: number };
  /** Signaling transport in use: `<signaler>/<carrier>`, e.g. 'hub/ws', 'mqtt/mqtts', 'manual/qr'. */
  transport?: string;
  /** The Signaler that carried the signaling ('hub', 'mqtt', 'redis', 'manual'; a chain's active rung). */
  signaler?: string;
}

export interface ConnectivityReportContext {
  state: RTCPeerConnectionState;
  gen?: number;
  previous?: ConnectivityReport;
  transport?: string;
  signaler?: string;
  /** Unit of currentRoundTripTime; 's' per W3C, 'ms' for node-datachannel. */
  rttUnit?: 's' | 'ms';
  /** node-datachannel's `selectedCandidatePair()`, whose transportType fills in the protocol. */
  selectedCandidatePair?: { local: { transportType?: string } };
}

/** What is read from the stats objects (all optional: implementations differ). */
interface Stat {
  id?: string;
  type?: string;
  timestamp?: number;
  selectedCandidatePairId?: string;
  selected?: boolean;
  nominated?: boolean;
  state?: string;
  localCandidateId?: string;
  remoteCandidateId?: string;
  bytesSent?: number;
  bytesReceived?: number;
  currentRoundTripTime?: number;
  totalRoundTripTime?: number;
  responsesReceived?: number;
  candidateType?: string;
  protocol?: string;
  relayProtocol?: string;
}

export function connectivityReport(
  stats: { values(): Iterable<unknown> },
  context: ConnectivityReportContext,
): ConnectivityReport {
  const byId = new Map<string, Stat>();
  const transports: Stat[] = [];
  for (const value of stats.values()) {
    const stat = value as Stat;
    if (stat.id) byId.set(stat.id, stat);
    if (stat.type === 'transport') transports.push(stat);
  }
  const pair = selectedPair(byId, transports);
  const local = pair?.localCandidateId ? byId.get(pair.localCandidateId) : undefined;
  const remote = pair?.remoteCandidateId ? byId.get(pair.remoteCandidateId) : undefined;

  // Transport totals survive a change of selected pair; the pair's own counters do not.
  const counted = transports.some((t) => t.bytesSent !== undefined) ? transports : pair ? [pair] : [];
  const bytesSent = sum(counted, 'bytesSent');
  const bytesReceived = sum(counted, 'bytesReceived');
  const timestamp = pair?.timestamp ?? transports[0]?.timestamp ?? 0;

  const report: ConnectivityReport = {
    state: context.state,
    gen: context.gen ?? 0,
    timestamp,
    candidateType: { local: candidateType(local?.candidateType), remote: candidateType(remote?.candidateType) },
    protocol: protocol(local?.protocol ?? context.selectedCandidatePair?.local.transportType),
    relayProtocol: local?.candidateType === 'relay' ? relayProtocol(local.relayProtocol) : undefined,
    rttMs: pair ? rttMs(pair, context.rttUnit ?? 's') : undefined,
    bytesSent,
    bytesReceived,
    bitrate: {},
    transport: context.transport,
    ...(context.signaler === undefined ? {} : { signaler: context.signaler }),
  };
  const previous = context.previous;
  const seconds = previous ? (timestamp - previous.timestamp) / 1000 : 0;
  if (previous && seconds > 0 && bytesSent >= previous.bytesSent && bytesReceived >= previous.bytesReceived) {
    report.bitrate = {
      in: Math.round(((bytesReceived - previous.bytesReceived) * 8) / seconds),
      out: Math.round(((bytesSent - previous.bytesSent) * 8) / seconds),
    };
  }
  return report;
}

function selectedPair(byId: Map<string, Stat>, transports: Stat[]): Stat | undefined {
  for (const transport of transports) {
    const pair = transport.selectedCandidatePairId ? byId.get(transport.selectedCandidatePairId) : undefined;
    if (pair) return pair;
  }
  const pairs = [...byId.values()].filter((s) => s.type === 'candidate-pair');
  // Firefox flags the pair itself; otherwise take a nominated pair that works.
  return pairs.find((p) => p.selected) ?? pairs.find((p) => p.nominated && p.state === 'succeeded');
}

function rttMs(pair: Stat, unit: 's' | 'ms'): number | undefined {
  const scale = unit === 's' ? 1000 : 1;
  if (typeof pair.currentRoundTripTime === 'number') return pair.currentRoundTripTime * scale;
  if (typeof pair.totalRoundTripTime === 'number' && pair.responsesReceived) {
    return (pair.totalRoundTripTime / pair.responsesReceived) * scale;
  }
  return undefined;
}

function sum(stats: Stat[], key: 'bytesSent' | 'bytesReceived'): number {
  return stats.reduce((total, s) => total + (s[key] ?? 0), 0);
}

function candidateType(value: string | undefined): CandidateType | undefined {
  return value === 'host' || value === 'srflx' || value === 'prflx' || value === 'relay' ? value : undefined;
}

function protocol(value: string | undefined): 'udp' | 'tcp' | undefined {
  // libdatachannel says 'UDP', 'TcpActive', 'TcpPassive'…
  const v = value?.toLowerCase();
  return v?.startsWith('udp') ? 'udp' : v?.startsWith('tcp') ? 'tcp' : undefined;
}

function relayProtocol(value: string | undefined): 'udp' | 'tcp' | 'tls' | undefined {
  return value === 'udp' || value === 'tcp' || value === 'tls' ? value : undefined;
}
