/**
 * Our publication on the SFU (docs/protocol/sfu.md §15.3): one send-only peer connection
 * carrying the local microphone and the camera (or the screen being shared) as three
 * simulcast layers. It never renegotiates: mute and camera-off flip `track.enabled`, and a
 * screen share or device switch is a `replaceTrack`, as on mesh connections (LocalMedia).
 */
import type { Json } from '@pinhole/protocol';
import type { LocalMedia } from '../media/local-media.js';
import type { RTCPeerConnectionConstructor } from '../peer/peer-connection.js';
import { SIMULCAST_ENCODINGS } from '../defaults.js';
import { gathered } from './signals.js';

export interface SfuPublisherOptions {
  RTCPeerConnection: RTCPeerConnectionConstructor;
  configuration: () => RTCConfiguration;
  media: LocalMedia;
  /** Sends a request to the SFU. */
  send: (data: Json) => void;
  /** The connection failed, its setup did, or it needs a new offer: the owner unpublishes and publishes again. */
  onFailed: (reason: string) => void;
}

export class SfuPublisher {
  readonly #options: SfuPublisherOptions;
  #pc: RTCPeerConnection | undefined;
  #senders: { audio?: RTCRtpSender; video?: RTCRtpSender } = {};
  #closed = false;
  readonly #off: (() => void)[] = [];

  constructor(options: SfuPublisherOptions) {
    this.#options = options;
    const { media } = options;
    const refresh = (): void => void this.#replaceTracks();
    this.#off.push(media.on('started', refresh), media.on('screen', refresh), media.on('device', refresh));
  }

  /** The publisher connection's state ('new' before the offer went out). */
  get state(): RTCPeerConnectionState {
    return this.#pc?.connectionState ?? 'new';
  }

  /** Offers our tracks to the SFU (once there are tracks to send: again on `media.start()`). */
  async publish(): Promise<void> {
    const { media } = this.#options;
    if (this.#pc || this.#closed || (!media.audioTrack && !media.videoTrack)) return;
    const pc = new this.#options.RTCPeerConnection(this.#options.configuration());
    this.#pc = pc;
    pc.addEventListener('connectionstatechange', () => {
      if (pc === this.#pc && pc.connectionState === 'failed') this.#options.onFailed('publisher connection failed');
    });
    try {
      if (media.audioTrack) this.#senders.audio = pc.addTransceiver(media.audioTrack, { direction: 'sendonly', streams: [media.stream] }).sender;
      if (media.videoTrack) this.#senders.video = this.#addVideo(pc, media.videoTrack, media.stream);
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      if (pc !== this.#pc) return;
      this.#options.send({ type: 'pinhole:sfu-publish', sdp: pc.localDescription!.sdp });
    } catch (err) {
      if (pc === this.#pc) this.#options.onFailed(`publish: ${(err as Error).message}`);
    }
  }

  /** The SFU's answer to our offer. */
  async accept(sdp: string): Promise<void> {
    const pc = this.#pc;
    if (!pc || pc.signalingState !== 'have-local-offer') return;
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp });
    } catch (err) {
      if (pc === this.#pc) this.#options.onFailed(`answer: ${(err as Error).message}`);
    }
  }

  /** Drops the connection (the SFU learns it from `unpublish`, sent by the owner, or from ICE). */
  reset(): void {
    this.#pc?.close();
    this.#pc = undefined;
    this.#senders = {};
  }

  close(): void {
    this.#closed = true;
    this.reset();
    for (const off of this.#off.splice(0)) off();
  }

  /** Simulcast where the browser takes it; one layer where it does not (the SFU forwards either). */
  #addVideo(pc: RTCPeerConnection, track: MediaStreamTrack, stream: MediaStream): RTCRtpSender {
    try {
      return pc.addTransceiver(track, { direction: 'sendonly', streams: [stream], sendEncodings: [...SIMULCAST_ENCODINGS] }).sender;
    } catch {
      return pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] }).sender;
    }
  }

  async #replaceTracks(): Promise<void> {
    const { media } = this.#options;
    if (!this.#pc) return void this.publish();
    // A kind that had no track when we offered needs a new publication: the owner starts over.
    if ((media.audioTrack && !this.#senders.audio) || (media.videoTrack && !this.#senders.video)) {
      return this.#options.onFailed('a new kind of track to publish');
    }
    await Promise.all([
      this.#senders.audio?.replaceTrack(media.audioTrack ?? null),
      this.#senders.video?.replaceTrack(media.videoTrack ?? null),
    ]).catch(() => undefined);
  }
}
