/** Pieces the werift transports share: configuration, codecs, complete local SDP, close watching. */
import { RTCPeerConnection, type RTCRtpCodecParameters, useH264, useOPUS, usePCMU, useVP8 } from 'werift';
import { SfuError, type Codec } from '../engine.js';
import { waitUntil } from './common.js';

export interface WeriftOptions {
  /** UDP ports for ICE, inclusive (default: any). */
  portRange?: [number, number];
}

export const WERIFT_CODECS: Record<string, (p: Partial<RTCRtpCodecParameters>) => RTCRtpCodecParameters> = {
  'video/vp8': useVP8,
  'video/h264': useH264,
  'audio/opus': useOPUS,
  'audio/pcmu': usePCMU,
  'audio/pcma': (p) => usePCMU({ ...p, mimeType: 'audio/PCMA', payloadType: 8 }),
};

/** Every codec the SFU forwards, for werift's negotiation (it matches by MIME type). */
export function forwardedCodecs(): { video: RTCRtpCodecParameters[]; audio: RTCRtpCodecParameters[] } {
  return {
    video: [useVP8(), useH264()],
    audio: [useOPUS(), usePCMU(), WERIFT_CODECS['audio/pcma']!({})],
  };
}

export function baseConfig(options: WeriftOptions): ConstructorParameters<typeof RTCPeerConnection>[0] {
  return { iceUseIpv6: false, ...(options.portRange ? { icePortRange: options.portRange } : {}) };
}

export const codecOf = (c: RTCRtpCodecParameters): Codec => ({ mimeType: c.mimeType, payloadType: c.payloadType, clockRate: c.clockRate });

export async function completeLocal(pc: RTCPeerConnection): Promise<string> {
  await waitUntil(() => pc.iceGatheringState === 'complete', 'ICE gathering');
  const sdp = pc.localDescription?.sdp;
  if (!sdp) throw new SfuError('closed', 'no local description');
  return sdp;
}

export function watchClose(pc: RTCPeerConnection, onClosed: () => void): void {
  pc.connectionStateChange.subscribe((state) => {
    if (state === 'failed' || state === 'closed') onClosed();
  });
}
