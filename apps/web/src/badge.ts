/**
 * The per-peer connection badge: how the media reaches that peer, in the words people
 * search for. From the SDK's ConnectivityReport (candidate types of the selected pair):
 * - relay on either side → "TURN udp|tcp|tls" (our side's relay protocol when we relay);
 * - server-reflexive on either side → "STUN" (a NAT was crossed with a STUN-learned address);
 * - host / peer-reflexive on both → "direct".
 */
import type { ConnectivityReport, SfuMediaReport } from '@pinhole/client';

export type PathKind = 'direct' | 'stun' | 'turn' | 'sfu' | 'connecting';

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

/**
 * Media through the SFU: "via SFU · h · 480 kbit/s" (the layer asked for and the bitrate
 * received), with the path to the SFU and the picture size in the tooltip.
 */
export function describeSfu(report: SfuMediaReport): Badge {
  const path = describeConnection(report.path);
  if (path.kind === 'connecting') return { kind: 'connecting', text: path.text, title: `through the SFU: ${path.title}` };
  const layer = report.layer ?? 'paused';
  const rate = report.video?.kbps === undefined ? '' : ` · ${report.video.kbps} kbit/s`;
  const size = report.video?.width && report.video.height ? `, ${report.video.width}×${report.video.height}` : '';
  return { kind: 'sfu', text: `via SFU · ${layer}${rate}`, title: `media through the SFU, layer ${layer}${size}; to the SFU: ${path.title}` };
}
