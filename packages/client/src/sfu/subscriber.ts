/**
 * Our subscriber session on the SFU (docs/protocol/sfu.md §15.4): one receive-only peer
 * connection carrying every track we subscribe to, from every publisher. The SFU offers
 * (the whole session, each time something changes), we answer with our candidates inside,
 * and its candidates follow our first answer. Each offer's `tracks` tells which section is
 * whose: a track arriving on a section joins that publisher's MediaStream.
 */
import type { Json } from '@pinhole/protocol';
import type { RTCPeerConnectionConstructor } from '../peer/peer-connection.js';
import { gathered, type SfuSection } from './signals.js';

export interface SfuSubscriberOptions {
  RTCPeerConnection: RTCPeerConnectionConstructor;
  configuration: () => RTCConfiguration;
  send: (data: Json) => void;
  /** A publisher's track arrived (its stream holds all of that publisher's tracks we get). */
  onTrack: (publisher: string, track: MediaStreamTrack, stream: MediaStream) => void;
  /** The connection failed or an offer could not be applied: the owner subscribes again later. */
  onFailed: (reason: string) => void;
}

export class SfuSubscriber {
  readonly #options: SfuSubscriberOptions;
  #pc: RTCPeerConnection | undefined;
  /** The current offer's sections by mid. */
  #sections = new Map<string, SfuSection>();
  readonly #streams = new Map<string, MediaStream>();
  /** Offers and candidates are applied one at a time, in order. */
  #queue: Promise<void> = Promise.resolve();

  constructor(options: SfuSubscriberOptions) {
    this.#options = options;
  }

  get state(): RTCPeerConnectionState {
    return this.#pc?.connectionState ?? 'new';
  }

  /** The connection (for stats), once the SFU has offered. */
  get pc(): RTCPeerConnection | undefined {
    return this.#pc;
  }

  /** Bytes of media received so far (all sections), while connected; undefined otherwise. */
  async inboundBytes(): Promise<number | undefined> {
    const pc = this.#pc;
    if (!pc || pc.connectionState !== 'connected') return undefined;
    let bytes = 0;
    (await pc.getStats()).forEach((s: { type?: string; bytesReceived?: number }) => {
      if (s.type === 'inbound-rtp') bytes += s.bytesReceived ?? 0;
    });
    return bytes;
  }

  /** The mids of `publisher`'s sections in the current offer. */
  mids(publisher: string): Set<string> {
    return new Set([...this.#sections.values()].filter((s) => s.publisher === publisher).map((s) => s.mid));
  }

  offer(sdp: string, tracks: SfuSection[]): void {
    this.#enqueue(async () => {
      const pc = this.#pc ?? this.#open();
      const next = new Map(tracks.map((t) => [t.mid, t]));
      this.#dropSectionsNotIn(next);
      // Set before applying: 'track' events fire during setRemoteDescription.
      this.#sections = next;
      await pc.setRemoteDescription({ type: 'offer', sdp });
      // A section the SFU reused for another publisher fires no 'track' event: place it here.
      for (const t of pc.getTransceivers()) {
        const section = t.mid === null ? undefined : next.get(t.mid);
        if (section) this.#place(section, t.receiver.track);
      }
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc);
      if (pc === this.#pc) this.#options.send({ type: 'pinhole:sfu-answer', sdp: pc.localDescription!.sdp });
    }, 'offer');
  }

  candidates(candidates: RTCIceCandidateInit[]): void {
    this.#enqueue(async () => {
      for (const c of candidates) await this.#pc?.addIceCandidate(c);
    }, 'candidates');
  }

  /** Forgets the connection (the SFU offers a new session when we subscribe again). */
  reset(): void {
    this.#pc?.close();
    this.#pc = undefined;
    this.#dropSectionsNotIn(new Map());
    this.#sections = new Map();
  }

  close(): void {
    this.reset();
  }

  #enqueue(step: () => Promise<void>, what: string): void {
    const pc = this.#pc;
    this.#queue = this.#queue.then(step).catch((err: Error) => {
      if (pc === undefined || pc === this.#pc) this.#options.onFailed(`${what}: ${err.message}`);
    });
  }

  #open(): RTCPeerConnection {
    const pc = new this.#options.RTCPeerConnection(this.#options.configuration());
    this.#pc = pc;
    pc.addEventListener('track', (e) => {
      const section = e.transceiver.mid === null ? undefined : this.#sections.get(e.transceiver.mid);
      if (section) this.#place(section, e.track);
    });
    pc.addEventListener('connectionstatechange', () => {
      if (pc === this.#pc && pc.connectionState === 'failed') this.#options.onFailed('subscriber connection failed');
    });
    return pc;
  }

  /** Puts `track` into its publisher's stream (once) and tells the owner. */
  #place(section: SfuSection, track: MediaStreamTrack): void {
    let stream = this.#streams.get(section.publisher);
    if (!stream) this.#streams.set(section.publisher, (stream = new MediaStream()));
    if (stream.getTracks().includes(track)) return;
    // One track per kind and publisher in this slice (camera or screen, and the microphone).
    for (const old of stream.getTracks()) if (old.kind === track.kind) stream.removeTrack(old);
    stream.addTrack(track);
    this.#options.onTrack(section.publisher, track, stream);
  }

  /** Takes the tracks of sections that are gone out of their publishers' streams. */
  #dropSectionsNotIn(next: Map<string, SfuSection>): void {
    const transceivers = this.#pc?.getTransceivers() ?? [];
    for (const [mid, section] of this.#sections) {
      if (next.get(mid)?.publisher === section.publisher) continue;
      const track = transceivers.find((t) => t.mid === mid)?.receiver.track;
      const stream = this.#streams.get(section.publisher);
      if (track && stream) stream.removeTrack(track);
      if (stream && stream.getTracks().length === 0) this.#streams.delete(section.publisher);
    }
  }
}
