/**
 * Mesh ↔ SFU for one room (docs/protocol/peer.md §12.5): the room stays peer-to-peer while it
 * has at most `meshMax` participants and sends its media through the SFU once it grows past
 * that (back again, if `meshReturnMs` is set, after that long at `meshMax` or fewer; at once if the SFU leaves).
 * Every member decides alone, from the same member count, so the room switches together.
 *
 * Make before break: entering the SFU, we publish there and keep sending on the mesh until
 * our publication is connected and TOPOLOGY_SWITCH_GRACE_MS more have passed (time for the
 * others to subscribe); leaving it, the mesh gets our tracks back first and the publication
 * ends a grace later. Whatever our own mode, we subscribe to every publication of the others,
 * since the publisher decides where its media goes. Data channels and files never move: the
 * mesh connections stay up in both modes, only their media senders come and go.
 */
import type { Json } from '@pinhole/protocol';
import type { LocalMedia } from '../media/local-media.js';
import type { PeerConnection, RTCPeerConnectionConstructor } from '../peer/peer-connection.js';
import {
  DEFAULT_MESH_MAX,
  DEFAULT_SFU_LAYER,
  MESH_FALLBACK_MAX,
  MESH_RETURN_MS,
  SFU_RETRY_MS,
  SFU_UNHEALTHY_MS,
  SFU_UNHEALTHY_RETRY_MS,
  TOPOLOGY_SWITCH_GRACE_MS,
} from '../defaults.js';
import { SfuPublisher } from './publisher.js';
import { SfuSubscriber } from './subscriber.js';
import type { SfuMessage } from './signals.js';
import { sfuMediaReport, type SfuMediaReport } from './report.js';

export type TopologyMode = 'mesh' | 'sfu';

/** What the topology needs from its room. */
export interface TopologyHost {
  readonly localId: string;
  /** The mesh connections of the current members. */
  connections(): PeerConnection[];
  /** One member's mesh connection. */
  connection(peer: string): PeerConnection | undefined;
  /** The current members' peer ids (service members excluded). */
  peerIds(): string[];
  /** Participants, us included (service members not counted). */
  participants(): number;
  /** The SFU's peer id while it is in the room. */
  sfu(): string | undefined;
  /** A signal to the SFU or a member, in this room. */
  send(to: string, data: Json): void;
  /** A publisher's track came through the SFU (`name`: what the SFU calls a publisher that is not a member, e.g. a WHIP stream). */
  deliver(publisher: string, track: MediaStreamTrack, stream: MediaStream, name?: string): void;
  /** A publication ended (or its SFU is gone). */
  ended(publisher: string): void;
  /** The room's active speaker as the SFU hears it (undefined: nobody). */
  speaker(publisher: string | undefined): void;
  changed(mode: TopologyMode): void;
}

export interface TopologyOptions {
  /** `auto` (default): by room size; `sfu` whenever the room has an SFU; `mesh` never uses it. */
  topology: 'sfu' | 'auto';
  /** Participants (us included) a room keeps peer-to-peer. Default DEFAULT_MESH_MAX. */
  meshMax?: number;
  RTCPeerConnection: RTCPeerConnectionConstructor;
  configuration: () => RTCConfiguration;
  media?: LocalMedia;
  /** Timings, for tests (defaults in defaults.ts). */
  meshReturnMs?: number;
  switchGraceMs?: number;
  unhealthyMs?: number;
  unhealthyRetryMs?: number;
}

export class Topology {
  #mode: TopologyMode = 'mesh';
  /** Whether new mesh connections get our media. */
  #meshMedia = true;
  /** Members that said they receive us on the mesh again (after a move back from the SFU). */
  readonly #onMesh = new Set<string>();
  /** The way we last told each member we receive it. */
  readonly #told = new Map<string, TopologyMode>();
  readonly #publisher: SfuPublisher | undefined;
  readonly #subscriber: SfuSubscriber;
  /** The others' publications, from `pinhole:sfu-tracks`. */
  readonly #publications = new Set<string>();
  readonly #subscribed = new Set<string>();
  readonly #layers = new Map<string, string | null>();
  readonly #reports = new Map<string, SfuMediaReport>();
  /** Names the SFU gave publications (publishers that are not members). */
  readonly #names = new Map<string, string>();
  #returnTimer: ReturnType<typeof setTimeout> | undefined;
  /** The SFU our connections go to. */
  #sfuId: string | undefined;
  /** Date.now() before which the SFU is not used (its connections broke). */
  #unhealthyUntil = 0;
  #badSince: number | undefined;
  /** Bytes received through the SFU at the last health check. */
  #lastInbound: number | undefined;
  /** One health check loop per stay in the SFU mode. */
  #healthEpoch = 0;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #closed = false;

  constructor(
    readonly host: TopologyHost,
    readonly options: TopologyOptions,
  ) {
    const { RTCPeerConnection, configuration, media } = options;
    const send = (data: Json): void => this.#toSfu(data);
    this.#subscriber = new SfuSubscriber({
      RTCPeerConnection,
      configuration,
      send,
      onTrack: (publisher, track, stream) => host.deliver(publisher, track, stream, this.#names.get(publisher)),
      onFailed: () => this.#resubscribeAll(),
    });
    this.#publisher = media
      ? new SfuPublisher({ RTCPeerConnection, configuration, media, send, onFailed: () => this.#republish() })
      : undefined;
  }

  get mode(): TopologyMode {
    return this.#mode;
  }

  /** Our subscriber connection to the SFU (stats), once it offered. */
  get subscriberConnection(): RTCPeerConnection | undefined {
    return this.#subscriber.pc;
  }

  /** What we receive of `publisher` through the SFU; undefined while nothing of it comes that way. */
  async report(publisher: string, transport?: string): Promise<SfuMediaReport | undefined> {
    const pc = this.#subscriber.pc;
    const mids = this.#subscriber.mids(publisher);
    if (!pc || mids.size === 0) return undefined;
    const report = sfuMediaReport(await pc.getStats(), {
      state: pc.connectionState,
      mids,
      layer: this.#layers.has(publisher) ? this.#layers.get(publisher)! : DEFAULT_SFU_LAYER,
      ...(this.#reports.has(publisher) ? { previous: this.#reports.get(publisher)! } : {}),
      ...(transport ? { transport } : {}),
    });
    this.#reports.set(publisher, report);
    return report;
  }

  /** A new member's mesh connection: it gets our media while the mesh carries it. */
  added(connection: PeerConnection): void {
    if (this.#meshMedia) this.options.media?.attach(connection);
  }

  /** Members or services came or went: switch if the room's size says so. */
  update(): void {
    if (this.#closed) return;
    const sfu = this.host.sfu();
    // Another SFU (a restarted one joins under a new id while the old one's session expires),
    // or none: everything on the old one is gone; the mesh carries the media meanwhile.
    if (sfu !== this.#sfuId) {
      this.#dropSfu();
      this.#sfuId = sfu;
      this.#unhealthyUntil = 0;
    }
    const healthy = Date.now() >= this.#unhealthyUntil;
    const wantSfu =
      sfu !== undefined && healthy && (this.options.topology === 'sfu' || this.host.participants() > (this.options.meshMax ?? DEFAULT_MESH_MAX));
    if (wantSfu) {
      this.#clear('return');
      if (this.#mode === 'mesh') this.#enterSfu();
    } else if (this.#mode === 'sfu') {
      if (!sfu || !healthy) this.#enterMesh();
      else if (this.#returnTimer === undefined && Number.isFinite(this.options.meshReturnMs ?? MESH_RETURN_MS)) {
        this.#returnTimer = this.#later(() => this.#enterMesh(), this.options.meshReturnMs ?? MESH_RETURN_MS);
      }
    }
  }

  message(from: string, msg: SfuMessage): void {
    if (this.#closed || from !== this.host.sfu()) return;
    switch (msg.type) {
      case 'pinhole:sfu-answer':
        void this.#publisher?.accept(msg.sdp);
        return;
      case 'pinhole:sfu-offer':
        this.#subscriber.offer(msg.sdp, msg.tracks);
        return;
      case 'pinhole:sfu-candidates':
        this.#subscriber.candidates(msg.candidates);
        return;
      case 'pinhole:sfu-tracks':
        if (msg.publisher === this.host.localId) return;
        if (msg.tracks.length > 0) {
          this.#publications.add(msg.publisher);
          if (msg.name !== undefined) this.#names.set(msg.publisher, msg.name);
          this.#subscribe(msg.publisher);
        } else {
          this.#forget(msg.publisher);
        }
        return;
      case 'pinhole:sfu-speaker':
        this.host.speaker(msg.publisher ?? undefined);
        return;
      case 'pinhole:sfu-error':
        this.#onError(msg);
        return;
    }
  }

  /** Asks for `publisher`'s `rid` layer (`q`, `h`, `f`), or pauses its video with null. */
  setLayer(publisher: string, rid: string | null): void {
    if (this.#subscribed.has(publisher) && this.#layers.get(publisher) !== rid) this.#toSfu({ type: 'pinhole:sfu-layer', publisher, rid });
    this.#layers.set(publisher, rid);
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#publisher?.close();
    this.#subscriber.close();
  }

  /** Forgets everything on the SFU we used (it left, or another one took its place). */
  #dropSfu(): void {
    if (this.#mode === 'sfu') this.#enterMesh();
    this.#publisher?.reset();
    this.#subscriber.reset();
    for (const p of [...this.#publications]) this.#forget(p);
    this.#subscribed.clear();
  }

  #forget(publisher: string): void {
    this.#publications.delete(publisher);
    this.#subscribed.delete(publisher);
    this.#reports.delete(publisher);
    this.#names.delete(publisher);
    this.host.ended(publisher);
  }

  /**
   * While media goes through the SFU: connections to it that stay disconnected or failed, or
   * media from it that stops while others publish, for SFU_UNHEALTHY_MS (the SFU died, and its member lingers in the room until the hub's grace
   * ends) send the media back to the mesh, and the SFU is tried again SFU_UNHEALTHY_RETRY_MS later.
   */
  async #checkHealth(epoch: number): Promise<void> {
    if (this.#mode !== 'sfu' || epoch !== this.#healthEpoch) return;
    const bad = (state: RTCPeerConnectionState): boolean => state === 'disconnected' || state === 'failed';
    // A dead SFU shows first as media that stops (ICE takes longer to call it disconnected).
    const inbound = this.#publications.size > 0 ? await this.#subscriber.inboundBytes() : undefined;
    if (this.#mode !== 'sfu' || epoch !== this.#healthEpoch) return;
    const stalled = inbound !== undefined && inbound > 0 && inbound === this.#lastInbound;
    this.#lastInbound = inbound;
    const now = Date.now();
    if (stalled || bad(this.#publisher?.state ?? 'new') || bad(this.#subscriber.state)) this.#badSince ??= now;
    else this.#badSince = undefined;
    if (this.#badSince !== undefined && now - this.#badSince >= (this.options.unhealthyMs ?? SFU_UNHEALTHY_MS)) {
      this.#badSince = undefined;
      if (this.host.participants() > MESH_FALLBACK_MAX) {
        // Too many for a mesh: connect to the SFU again instead.
        this.#republish();
        this.#resubscribeAll();
        this.#later(() => void this.#checkHealth(epoch), SFU_RETRY_MS * 5);
        return;
      }
      const retryMs = this.options.unhealthyRetryMs ?? SFU_UNHEALTHY_RETRY_MS;
      this.#unhealthyUntil = now + retryMs;
      this.#publisher?.reset();
      this.#subscriber.reset();
      this.#subscribed.clear();
      this.#enterMesh();
      this.#later(() => {
        this.update();
        for (const p of this.#publications) this.#subscribe(p);
      }, retryMs);
      return;
    }
    this.#later(() => void this.#checkHealth(epoch), 1_000);
  }

  #enterSfu(): void {
    this.#mode = 'sfu';
    this.host.changed('sfu');
    this.#badSince = undefined;
    this.#lastInbound = undefined;
    const epoch = ++this.#healthEpoch;
    this.#later(() => void this.#checkHealth(epoch), 1_000);
    void this.#publisher?.publish();
    this.#clear('grace');
    // Each member that receives us through the SFU says so (received()) and loses our mesh
    // senders then; whoever has not said so by the grace loses them once we are published.
    const detachWhenPublished = (): void => {
      if (this.#mode !== 'sfu') return;
      if (this.#publisher && this.#publisher.state !== 'connected') {
        this.#graceTimer = this.#later(detachWhenPublished, 500);
        return;
      }
      this.#meshMedia = false;
      for (const c of this.host.connections()) this.options.media?.detach(c);
    };
    this.#graceTimer = this.#later(detachWhenPublished, this.options.switchGraceMs ?? TOPOLOGY_SWITCH_GRACE_MS);
  }

  #enterMesh(): void {
    this.#clear('return');
    this.#clear('grace');
    this.#mode = 'mesh';
    this.host.changed('mesh');
    this.#meshMedia = true;
    this.#onMesh.clear();
    for (const c of this.host.connections()) this.options.media?.attach(c);
    if (this.host.sfu()) this.#graceTimer = this.#later(() => this.#unpublish(), this.options.switchGraceMs ?? TOPOLOGY_SWITCH_GRACE_MS);
    else this.#publisher?.reset();
  }

  #unpublish(): void {
    this.#clear('grace');
    if (this.#mode !== 'mesh') return;
    this.#publisher?.reset();
    if (this.host.sfu()) this.#toSfu({ type: 'pinhole:sfu-unpublish' });
  }

  /**
   * `peer` receives every track of ours it gets, and all of them flow, the `via` way
   * (its `pinhole: "media"` message): the old way can stop for it.
   */
  received(peer: string, via: TopologyMode): void {
    if (via !== this.#mode) return;
    if (via === 'sfu') {
      const connection = this.host.connection(peer);
      if (connection) this.options.media?.detach(connection);
      return;
    }
    this.#onMesh.add(peer);
    if (this.host.peerIds().every((id) => this.#onMesh.has(id))) this.#unpublish();
  }

  /**
   * A track of `peer` carries media: once all of that stream's tracks do, tell `peer` which
   * way they come (once per way), so it can stop sending the other way.
   */
  flowing(peer: string, track: MediaStreamTrack, stream: MediaStream | undefined): void {
    // Without an SFU in the room nothing can move: no note (a plain mesh sends what it always did).
    if (this.host.sfu() === undefined) return;
    const via: TopologyMode = this.#subscriber.pc?.getReceivers().some((r) => r.track === track) ? 'sfu' : 'mesh';
    if (stream && stream.getTracks().some((t) => t.muted)) return;
    if (this.#told.get(peer) === via) return;
    this.#told.set(peer, via);
    this.host.send(peer, { pinhole: 'media', via });
  }

  #subscribe(publisher: string): void {
    if (this.#subscribed.has(publisher) || !this.host.sfu()) return;
    this.#subscribed.add(publisher);
    const layer = this.#layers.has(publisher) ? this.#layers.get(publisher)! : DEFAULT_SFU_LAYER;
    this.#toSfu({ type: 'pinhole:sfu-subscribe', publisher, layer: layer ?? DEFAULT_SFU_LAYER });
    if (layer === null) this.#toSfu({ type: 'pinhole:sfu-layer', publisher, rid: null });
  }

  #onError(msg: Extract<SfuMessage, { type: 'pinhole:sfu-error' }>): void {
    const retryable = msg.code === 'closed' || msg.code === 'timeout' || msg.code === 'internal';
    if (msg.request === 'pinhole:sfu-publish') {
      if (retryable) this.#republish();
      else this.#publisher?.reset();
      return;
    }
    if (msg.publisher !== undefined && msg.request === 'pinhole:sfu-subscribe') {
      this.#subscribed.delete(msg.publisher);
      if (retryable) this.#later(() => this.#publications.has(msg.publisher!) && this.#subscribe(msg.publisher!), SFU_RETRY_MS);
      return;
    }
    // Our subscriber session broke on the SFU's side: start it over.
    if (msg.code === 'closed' && msg.publisher === undefined) this.#resubscribeAll();
  }

  /** Ends our publication and, while the SFU carries our media, publishes again shortly. */
  #republish(): void {
    this.#publisher?.reset();
    if (this.host.sfu()) this.#toSfu({ type: 'pinhole:sfu-unpublish' });
    this.#later(() => this.#mode === 'sfu' && void this.#publisher?.publish(), SFU_RETRY_MS);
  }

  /** Ends our subscriber session and subscribes to every publication again shortly. */
  #resubscribeAll(): void {
    this.#subscriber.reset();
    if (this.host.sfu()) this.#toSfu({ type: 'pinhole:sfu-unsubscribe' });
    this.#subscribed.clear();
    this.#later(() => {
      for (const p of this.#publications) this.#subscribe(p);
    }, SFU_RETRY_MS);
  }

  #toSfu(data: Json): void {
    const sfu = this.host.sfu();
    if (sfu && !this.#closed) this.host.send(sfu, data);
  }

  #later(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (!this.#closed) fn();
    }, ms);
    this.#timers.add(t);
    return t;
  }

  #clear(which: 'return' | 'grace'): void {
    const t = which === 'return' ? this.#returnTimer : this.#graceTimer;
    if (t !== undefined) {
      clearTimeout(t);
      this.#timers.delete(t);
    }
    if (which === 'return') this.#returnTimer = undefined;
    else this.#graceTimer = undefined;
  }
}
