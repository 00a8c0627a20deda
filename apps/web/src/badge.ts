/**
 * The per-peer connection badge: how the media reaches that peer, in the words people
 * search for. From the SDK's ConnectivityReport (candidate types of the selected pair):
 * - relay on either side → "TURN udp|tcp|tls" (our side's relay protocol when we relay);
 * - server-reflexive on either side → "STUN" (a NAT was crossed with a STUN-learned address);
 * - host / peer-reflexive on both → "direct".
 */
import type { ConnectivityReport } from '@pinhole/client';

export type PathKind = 'direct' | 'stun' | 'turn' | 'connecting';

export interface Badge {
  kind: PathKind;
  /** e.g. "TURN tcp · 12 ms". */
  text: string;
  /** Longer, for the tooltip and screen readers. */
  title: string;
}

export function describeConnection(report: ConnectivityReport): Badge {
  const { local, remote } = report.candidateType;
  const rtt = report.rttMs === undefined ? '' : ` · ${Math.round(report.rttMs)} ms`;
  const signaling = report.transport ? `; signaling over ${report.transport.replace(/^hub\//, '')}` : '';
  if (!local || !remote || report.state !== 'connected') {
    const state = report.state === 'connected' ? 'connecting' : report.state;
    return { kind: 'connecting', text: state, title: `media: ${state}${signaling}` };
  }
  const protocol = report.protocol ?? 'udp';
  if (local === 'relay' || remote === 'relay') {
    const via = local === 'relay' ? (report.relayProtocol ?? protocol) : protocol;
    return { kind: 'turn', text: `TURN ${via}${rtt}`, title: `media relayed through TURN (${via}), ${local} ↔ ${remote}${signaling}` };
  }
  if (local === 'srflx' || remote === 'srflx') {
    return { kind: 'stun', text: `STUN ${protocol}${rtt}`, title: `media direct through a NAT (STUN address), ${local} ↔ ${remote} over ${protocol}${signaling}` };
  }
  return { kind: 'direct', text: `direct ${protocol}${rtt}`, title: `media direct, ${local} ↔ ${remote} over ${protocol}${signaling}` };
}
