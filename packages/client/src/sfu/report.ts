/**
 * What we receive of one publisher through the SFU, from our subscriber connection's
 * getStats(): the path to the SFU (the same ConnectivityReport as a mesh connection's), the
 * layer we asked for, and the video's size, frame rate and bitrate. Pure: the caller keeps the
 * previous report to get the bitrate.
 */
import { connectivityReport, type ConnectivityReport } from '../peer/report.js';

export interface SfuMediaReport {
  /** How we reach the SFU. */
  path: ConnectivityReport;
  /** The simulcast layer asked for (`q`, `h`, `f`; null: paused). */
  layer: string | null;
  video?: { width?: number; height?: number; framesPerSecond?: number; bytesReceived: number; timestamp: number; kbps?: number };
}

interface InboundStat {
  type?: string;
  kind?: string;
  mid?: string;
  frameWidth?: number;
  frameHeight?: number;
  framesPerSecond?: number;
  bytesReceived?: number;
  timestamp?: number;
}

export function sfuMediaReport(
  stats: RTCStatsReport,
  context: { state: RTCPeerConnectionState; mids: Set<string>; layer: string | null; previous?: SfuMediaReport; transport?: string },
): SfuMediaReport {
  let video: SfuMediaReport['video'];
  stats.forEach((s: InboundStat) => {
    if (s.type !== 'inbound-rtp' || s.kind !== 'video' || s.mid === undefined || !context.mids.has(s.mid)) return;
    const bytesReceived = s.bytesReceived ?? 0;
    const timestamp = s.timestamp ?? 0;
    const before = context.previous?.video;
    const kbps = before && timestamp > before.timestamp ? Math.round(((bytesReceived - before.bytesReceived) * 8) / (timestamp - before.timestamp)) : undefined;
    video = {
      bytesReceived,
      timestamp,
      ...(s.frameWidth === undefined ? {} : { width: s.frameWidth }),
      ...(s.frameHeight === undefined ? {} : { height: s.frameHeight }),
      ...(s.framesPerSecond === undefined ? {} : { framesPerSecond: s.framesPerSecond }),
      ...(kbps === undefined ? {} : { kbps }),
    };
  });
  const path = connectivityReport(stats, { state: context.state, ...(context.transport ? { transport: context.transport } : {}) });
  return { path, layer: context.layer, ...(video ? { video } : {}) };
}
