/**
 * The local camera, microphone and screen, sent to any number of peers (a mesh: one
 * RTCRtpSender per kind per PeerConnection).
 *
 * - `start()` asks getUserMedia; `attach(peer)` adds the current tracks to a peer (also
 *   when called before `start()` or while sharing the screen), and again after every
 *   'reset' of that peer, since a rebuilt RTCPeerConnection has no senders. A transceiver
 *   of the kind that sends nothing (after `detach`) is used again rather than a new one.
 * - Mute and video off flip `track.enabled`: the senders keep sending (silence, black
 *   frames), so no renegotiation and the remote track stays the same object.
 * - Screen share and device switches swap tracks with RTCRtpSender.replaceTrack on every
 *   peer (no renegotiation either); the remote keeps one video track whose content changes.
 *   When the screen track ends (the browser's "Stop sharing" button) the camera comes back.
 * Remote media arrives on each PeerConnection's 'track' event.
 */
import { Emitter } from '../emitter.js';
import { PeerError, toPeerError } from '../peer/errors.js';
import type { PeerConnection } from '../peer/peer-connection.js';

export type DeviceKind = 'audioinput' | 'videoinput';

export interface LocalMediaOptions {
  /** `navigator.mediaDevices` in browsers. */
  mediaDevices: Pick<MediaDevices, 'getUserMedia' | 'getDisplayMedia'>;
}

export type LocalMediaEvents = {
  started: { stream: MediaStream };
  mic: { enabled: boolean };
  camera: { enabled: boolean };
  /** Screen sharing started (`track` set) or stopped. */
  screen: { active: boolean; track?: MediaStreamTrack };
  /** A device switch replaced the track of `kind`. */
  device: { kind: DeviceKind; deviceId: string; track: MediaStreamTrack };
  stopped: void;
};

interface Attached {
  peer: PeerConnection;
  senders: { audio?: RTCRtpSender; video?: RTCRtpSender };
  off: () => void;
}

export class LocalMedia extends Emitter<LocalMediaEvents> {
  /** Camera and microphone: what the local preview shows. */
  readonly stream = new MediaStream();
  readonly #devices: LocalMediaOptions['mediaDevices'];
  readonly #peers = new Map<PeerConnection, Attached>();
  #screen: MediaStreamTrack | undefined;

  constructor(options: LocalMediaOptions) {
    super();
    this.#devices = options.mediaDevices;
  }

  get audioTrack(): MediaStreamTrack | undefined {
    return this.stream.getAudioTracks()[0];
  }

  get cameraTrack(): MediaStreamTrack | undefined {
    return this.stream.getVideoTracks()[0];
  }

  get screenTrack(): MediaStreamTrack | undefined {
    return this.#screen;
  }

  /** The video track peers receive: the screen while sharing, else the camera. */
  get videoTrack(): MediaStreamTrack | undefined {
    return this.#screen ?? this.cameraTrack;
  }

  get micEnabled(): boolean {
    return this.audioTrack?.enabled ?? false;
  }

  get cameraEnabled(): boolean {
    return this.cameraTrack?.enabled ?? false;
  }

  /** Starts camera and microphone (default both) and sends them to every attached peer. */
  async start(constraints: MediaStreamConstraints = { audio: true, video: true }): Promise<MediaStream> {
    let captured: MediaStream;
    try {
      captured = await this.#devices.getUserMedia(constraints);
    } catch (err) {
      throw toPeerError('media-failed', 'getUserMedia', err);
    }
    for (const track of captured.getTracks()) {
      const old = track.kind === 'audio' ? this.audioTrack : this.cameraTrack;
      if (old) {
        this.stream.removeTrack(old);
        old.stop();
      }
      this.stream.addTrack(track);
    }
    await Promise.all([...this.#peers.values()].map((entry) => this.#send(entry)));
    this.emit('started', { stream: this.stream });
    return this.stream;
  }

  /** Sends the current tracks to `peer` now and after each of its rebuilds. Returns detach. */
  attach(peer: PeerConnection): () => void {
    if (!peer.capabilities.media) throw new PeerError('unsupported', 'this RTCPeerConnection implementation cannot send media');
    if (this.#peers.has(peer)) return () => this.detach(peer);
    const entry: Attached = { peer, senders: {}, off: () => {} };
    const offReset = peer.on('reset', () => {
      entry.senders = {};
      void this.#send(entry);
    });
    const offClosed = peer.on('closed', () => this.#peers.delete(peer));
    entry.off = () => (offReset(), offClosed());
    this.#peers.set(peer, entry);
    void this.#send(entry);
    return () => this.detach(peer);
  }

  /** Stops sending to `peer` (its senders are removed). */
  detach(peer: PeerConnection): void {
    const entry = this.#peers.get(peer);
    if (!entry) return;
    entry.off();
    this.#peers.delete(peer);
    if (peer.closed) return;
    for (const sender of Object.values(entry.senders)) if (sender) peer.pc.removeTrack(sender);
  }

  setMicEnabled(enabled: boolean): void {
    if (!this.audioTrack) return;
    this.audioTrack.enabled = enabled;
    this.emit('mic', { enabled });
  }

  /** Camera off sends black frames; it does not affect a screen being shared. */
  setCameraEnabled(enabled: boolean): void {
    if (!this.cameraTrack) return;
    this.cameraTrack.enabled = enabled;
    this.emit('camera', { enabled });
  }

  /** Replaces the video every peer receives with a screen, window or tab. */
  async startScreenShare(options: DisplayMediaStreamOptions = { video: true, audio: false }): Promise<MediaStreamTrack> {
    let track: MediaStreamTrack | undefined;
    try {
      track = (await this.#devices.getDisplayMedia(options)).getVideoTracks()[0];
    } catch (err) {
      throw toPeerError('media-failed', 'getDisplayMedia', err);
    }
    if (!track) throw new PeerError('media-failed', 'getDisplayMedia returned no video track');
    const previous = this.#screen;
    this.#screen = track;
    // The browser's own "Stop sharing" control ends the track without telling us otherwise.
    track.addEventListener('ended', () => void this.stopScreenShare(track), { once: true });
    await this.#replaceAll('video');
    previous?.stop();
    this.emit('screen', { active: true, track });
    return track;
  }

  /** Stops sharing and sends the camera again. `track`: only if it is still the shared one. */
  async stopScreenShare(track = this.#screen): Promise<void> {
    if (!track || track !== this.#screen) return;
    this.#screen = undefined;
    track.stop();
    await this.#replaceAll('video');
    this.emit('screen', { active: false });
  }

  /** Switches microphone or camera; the new track keeps the old one's enabled state. */
  async switchDevice(kind: DeviceKind, deviceId: string): Promise<MediaStreamTrack> {
    const mediaKind = kind === 'audioinput' ? 'audio' : 'video';
    let track: MediaStreamTrack | undefined;
    try {
      const captured = await this.#devices.getUserMedia({ [mediaKind]: { deviceId: { exact: deviceId } } });
      track = captured.getTracks().find((t) => t.kind === mediaKind);
    } catch (err) {
      throw toPeerError('media-failed', `getUserMedia for ${kind} ${deviceId}`, err);
    }
    if (!track) throw new PeerError('media-failed', `no ${mediaKind} track from device ${deviceId}`);
    const old = mediaKind === 'audio' ? this.audioTrack : this.cameraTrack;
    if (old) {
      track.enabled = old.enabled;
      this.stream.removeTrack(old);
    }
    this.stream.addTrack(track);
    await this.#replaceAll(mediaKind);
    old?.stop();
    this.emit('device', { kind, deviceId, track });
    return track;
  }

  /** Stops every track and detaches from every peer. */
  stop(): void {
    for (const peer of [...this.#peers.keys()]) this.detach(peer);
    for (const track of this.stream.getTracks()) {
      track.stop();
      this.stream.removeTrack(track);
    }
    this.#screen?.stop();
    this.#screen = undefined;
    this.emit('stopped', undefined);
  }

  /** Makes `entry`'s peer send the current tracks: replace where a sender exists, else add. */
  async #send(entry: Attached): Promise<void> {
    await Promise.all([this.#sendKind(entry, 'audio'), this.#sendKind(entry, 'video')]);
  }

  async #sendKind(entry: Attached, kind: 'audio' | 'video'): Promise<void> {
    const track = kind === 'audio' ? this.audioTrack : this.videoTrack;
    const sender = entry.senders[kind];
    if (sender) {
      if (sender.track !== track) await sender.replaceTrack(track ?? null);
    } else if (track && !entry.peer.closed) {
      const idle = idleTransceiver(entry.peer.pc, kind);
      if (!idle) {
        entry.senders[kind] = entry.peer.pc.addTrack(track, this.stream);
        return;
      }
      entry.senders[kind] = idle.sender;
      idle.direction = 'sendrecv';
      idle.sender.setStreams(this.stream);
      await idle.sender.replaceTrack(track);
    }
  }

  async #replaceAll(kind: 'audio' | 'video'): Promise<void> {
    try {
      await Promise.all([...this.#peers.values()].map((entry) => this.#sendKind(entry, kind)));
    } catch (err) {
      throw toPeerError('media-failed', `replaceTrack (${kind})`, err);
    }
  }
}

/**
 * A transceiver of `kind` that sends nothing (ours, after `detach`, or the remote's m-line
 * only receiving): sending on it again needs no new m-line. Why not addTrack: it makes a
 * new transceiver for each attach after a detach (a sender that once sent is never
 * reused), so the SDP grows with every mesh ↔ SFU switch, and when both sides attach at once
 * (an offer collision) Chromium never unmutes the polite side's new receiver track
 * (media/flowing.ts); a transceiver whose direction changes keeps its receiver working.
 */
function idleTransceiver(pc: RTCPeerConnection, kind: 'audio' | 'video'): RTCRtpTransceiver | undefined {
  return pc
    .getTransceivers()
    .find(
      (t) =>
        t.mid !== null &&
        t.receiver.track.kind === kind &&
        !t.sender.track &&
        (t.direction === 'recvonly' || t.direction === 'inactive') &&
        t.currentDirection !== 'stopped',
    );
}
