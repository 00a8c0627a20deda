/**
 * The connection of the "no server" page: the SDK's ManualSignaler under a Room with one
 * other member. The offering side's Room makes a complete (non-trickle) offer, which the
 * signaler turns into the invitation code; the answering side applies it and gives back
 * the answer code.
 *
 * A manual exchange carries exactly one offer and one answer, so:
 * - camera and microphone must be in the first offer (no renegotiation later), and the
 *   answering side can only send media into sections the offer has;
 * - a connection slow to come up cannot be rebuilt (the SDK never times out a first
 *   connection under a one-shot signaler), and this page also pushes the ICE restart after a
 *   long 'disconnected' past any call: a connection that fails is reported, not repaired.
 * To keep the codes QR-sized the offer is trimmed with standard APIs, not SDP edits:
 * one bundled transport (max-bundle: one set of candidates instead of one per section),
 * one codec per kind (Opus; VP8, which every browser must implement, RFC 7742 §5) and
 * only the RTP header extensions congestion control and BUNDLE need.
 */
import { ManualSignaler, Room, type LocalMedia, type RemotePeer } from '@pinhole/client';

export interface DirectLink {
  signaler: ManualSignaler;
  room: Room;
  peer: RemotePeer;
  /** Our code: the invitation (offering side) or the answer. */
  code: string;
  close(): Promise<void>;
}

export interface DirectLinkOptions {
  media: LocalMedia | undefined;
  iceServers: RTCIceServer[];
  /** Answering side: the invitation, already checked with readCode(). */
  invitation?: string;
}

/** Longer than any call (see above). */
const NO_REPAIR_MS = 2 ** 31 - 1;
/** Extensions kept: transport-wide congestion control, REMB's send time, BUNDLE's mid. */
const HEADER_EXTENSIONS = /transport-wide-cc|abs-send-time|sdes:mid$/;

/** Joins the one-member room and waits until our code is complete (ICE gathering done). */
export async function openDirectLink(options: DirectLinkOptions): Promise<DirectLink> {
  const signaler = new ManualSignaler({ role: options.invitation === undefined ? 'offer' : 'answer' });
  let room: Room | undefined;
  try {
    if (options.invitation !== undefined) await signaler.remote(options.invitation);
    room = await Room.join(signaler, 'direct', {}, {
      RTCPeerConnection,
      configuration: () => ({ iceServers: options.iceServers, bundlePolicy: 'max-bundle' }),
      ...(options.media ? { media: options.media } : {}),
      disconnectedTimeoutMs: NO_REPAIR_MS,
    });
    const peer = room.peers.get(signaler.remoteId)!;
    // Still in the task that built the connection: 'negotiationneeded' (a task) has not
    // fired yet, so the first offer already has these settings.
    for (const transceiver of peer.connection!.pc.getTransceivers()) trim(transceiver);
    // Encoding our code can fail (an 'error' event rather than a rejection of local()).
    const code = await Promise.race([signaler.local(), signaler.next('error').then((err) => Promise.reject(err))]);
    const joined = room;
    return {
      signaler,
      room,
      peer,
      code,
      close: async () => {
        await joined.leave();
        await signaler.close();
      },
    };
  } catch (err) {
    await room?.leave();
    await signaler.close();
    throw err;
  }
}

interface HeaderExtension {
  uri: string;
  direction: RTCRtpTransceiverDirection;
}
/** Chromium's RTCRtpTransceiver header-extension control (not in every browser or lib.dom). */
type WithHeaderExtensions = RTCRtpTransceiver & {
  getHeaderExtensionsToNegotiate?(): HeaderExtension[];
  setHeaderExtensionsToNegotiate?(extensions: HeaderExtension[]): void;
};

function trim(transceiver: WithHeaderExtensions): void {
  const kind = transceiver.receiver.track.kind as 'audio' | 'video';
  const keep = kind === 'audio' ? /^audio\/opus$/i : /^video\/(VP8|rtx)$/i;
  const codecs = RTCRtpReceiver.getCapabilities(kind)?.codecs.filter((c) => keep.test(c.mimeType)) ?? [];
  // Each step is optional: a browser without it just makes a longer code.
  try {
    if (codecs.length > 0) transceiver.setCodecPreferences(codecs);
  } catch {
    /* keep the browser's codec list */
  }
  try {
    const extensions = transceiver.getHeaderExtensionsToNegotiate?.();
    if (extensions) {
      transceiver.setHeaderExtensionsToNegotiate!(
        extensions.map((e) => ({ ...e, direction: HEADER_EXTENSIONS.test(e.uri) ? e.direction : 'stopped' })),
      );
    }
  } catch {
    /* keep the browser's extensions */
  }
}
