/**
 * Manual / QR rendezvous as a Signaler: one offer string and one answer string, copied,
 * pasted or scanned between two peers (no server at all). The offering side's peer
 * connection makes a complete offer — the signaler waits for end-of-candidates (or
 * `gatherTimeoutMs`) and folds every candidate into it — and `local()` gives the string to
 * hand over; the answering side `remote(offer)`s it, joins, and `local()` gives the answer,
 * which the offering side `remote(answer)`s. A room over it has exactly one other member.
 * The answering side applies the offer's candidates only a while after its answer is made
 * (`candidateHoldMs`; #deliverRemote says why).
 *
 * Ids: the offering side is 'offerer', the answering side 'answerer', so the offering side
 * is the impolite one that makes the offer (perfect negotiation, docs/protocol/peer.md §12.1).
 * The strings carry the first offer and answer only. Everything later — renegotiation, an
 * in-place ICE restart, late candidates — travels in-band over the connection's control
 * channel once it is open (docs/protocol/rendezvous.md §14.6; the room hands the signaler its
 * connection through `attach`). A rebuild after the connection failed cannot (it replaces
 * that connection) and is reported as an `unsupported` error: a new exchange is needed.
 */
import type { Json, PeerInfo, PeerMeta } from '@pinhole/protocol';
import { Emitter } from '../emitter.js';
import type { Signaler, SignalerEvents, SignalerState } from './signaler.js';
import type { PeerConnection } from '../peer/peer-connection.js';
import { InBandLinks, type InBandStatus } from './in-band-links.js';
import { isRtcSignal, type RtcSignal } from '../peer/signals.js';
import { SignalingError } from './errors.js';
import { decodeManual, encodeManual, splitCandidates, type ManualDescription } from './manual-sdp.js';
import { DEFAULT_GATHER_TIMEOUT_MS, DEFAULT_MANUAL_CANDIDATE_HOLD_MS } from '../defaults.js';

export type ManualRole = 'offer' | 'answer';

export interface ManualSignalerOptions {
  role: ManualRole;
  /** Wait at most this long for ICE gathering after the description; default DEFAULT_GATHER_TIMEOUT_MS. */
  gatherTimeoutMs?: number;
  /** Answering side: apply the offer's candidates this long after our answer is made; default DEFAULT_MANUAL_CANDIDATE_HOLD_MS. */
  candidateHoldMs?: number;
}

export interface ManualSignalerEvents extends SignalerEvents {
  /** Our string is ready (also what `local()` resolves with). */
  local: string;
  error: SignalingError;
}

export const OFFERER_ID = 'offerer';
export const ANSWERER_ID = 'answerer';

export class ManualSignaler extends Emitter<ManualSignalerEvents> implements Signaler {
  readonly kind = 'manual';
  /** The two strings are the only signals before the connection is up (in-band after it). */
  readonly oneShot = true;
  readonly transport = 'manual';
  readonly localId: string;
  readonly remoteId: string;
  readonly role: ManualRole;
  #state: SignalerState = 'connected';
  #room: string | undefined;
  #remote: ManualDescription | undefined;
  #description: ManualDescription | undefined;
  readonly #candidates: { candidate: string; ufrag: string | undefined }[] = [];
  /** ICE gathering of our description ended (or we stopped waiting). */
  #gathered = false;
  /** Our string was made: later signals cannot be carried. */
  #ended = false;
  #local: string | undefined;
  #gatherTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #gatherTimeoutMs: number;
  /** Answering side: the offer's candidates and end-of-candidates, held (see #deliverRemote). */
  #heldSignals: RtcSignal[] = [];
  #holdTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #candidateHoldMs: number;
  readonly #inBand = new InBandLinks({
    deliver: (room, from, data) => this.emit('signal', { room, from, data }),
    error: (err) => this.emit('error', err),
  });

  constructor(options: ManualSignalerOptions) {
    super();
    this.role = options.role;
    this.localId = options.role === 'offer' ? OFFERER_ID : ANSWERER_ID;
    this.remoteId = options.role === 'offer' ? ANSWERER_ID : OFFERER_ID;
    this.#gatherTimeoutMs = options.gatherTimeoutMs ?? DEFAULT_GATHER_TIMEOUT_MS;
    this.#candidateHoldMs = options.candidateHoldMs ?? DEFAULT_MANUAL_CANDIDATE_HOLD_MS;
  }

  get state(): SignalerState {
    return this.#state;
  }

  /** Our offer (role 'offer') or answer (role 'answer') string, once ICE gathering is done. */
  local(timeoutMs?: number): Promise<string> {
    if (this.#local !== undefined) return Promise.resolve(this.#local);
    return this.next('local', timeoutMs);
  }

  /**
   * Takes the other side's string: the offer (role 'answer', before or after join) or the
   * answer (role 'offer'). Rejects with `bad-manual-string` if it is garbled or of the
   * wrong type; nothing is applied then, so the user can paste again.
   */
  async remote(text: string): Promise<void> {
    if (this.#state === 'closed') throw new SignalingError('closed', 'the signaler was closed');
    const description = await decodeManual(text);
    const expected = this.role === 'offer' ? 'answer' : 'offer';
    if (description.type !== expected) throw new SignalingError('bad-manual-string', `this is an ${description.type}; the ${this.role === 'offer' ? 'offering' : 'answering'} side needs an ${expected}`);
    if (this.#remote) throw new SignalingError('unsupported', `an ${expected} was already applied: a manual exchange is one-shot`);
    this.#remote = description;
    if (this.#room !== undefined) this.#deliverRemote();
  }

  join(room: string, _meta: PeerMeta = {}): Promise<PeerInfo[]> {
    if (this.#state === 'closed') return Promise.reject(new SignalingError('closed', 'the signaler was closed'));
    if (this.#room !== undefined) return Promise.reject(new SignalingError('unsupported', 'a manual signaler carries one room with one peer'));
    this.#room = room;
    if (this.#remote) this.#deliverRemote();
    return Promise.resolve([{ peer: this.remoteId, meta: {} }]);
  }

  async leave(room: string): Promise<void> {
    if (room === this.#room) this.#room = undefined;
  }

  signal(to: string, data: Json, room?: string): void {
    const link = isRtcSignal(data) && this.#ended ? this.#inBand.get(to, room) : undefined;
    if (link && this.#inBand.send(link, data as unknown as RtcSignal)) return;
    if (to !== this.remoteId || !isRtcSignal(data) || this.#ended) {
      if (isRtcSignal(data) && 'candidate' in data) return; // a late candidate after the string was made: ICE has enough
      this.emit('error', new SignalingError('unsupported', this.#ended
        ? 'a manual exchange carries one offer and one answer: this signal (a repair?) needs a new exchange'
        : 'a manual signaler carries only the peer connection\'s offer and answer'));
      return;
    }
    this.#collect(data);
  }

  broadcast(_room: string, _data: Json): void {
    this.emit('error', new SignalingError('unsupported', 'a manual signaler cannot carry messages; use a data channel'));
  }

  attach(room: string, peer: string, connection: PeerConnection): void {
    this.#inBand.attach(room, peer, connection);
  }

  /** In-band signaling on the connection to the other side; undefined before a room built it. */
  inBand(peer = this.remoteId, room?: string): InBandStatus | undefined {
    return this.#inBand.status(peer, room);
  }

  async close(): Promise<void> {
    this.#inBand.dispose();
    clearTimeout(this.#gatherTimer);
    clearTimeout(this.#holdTimer);
    this.#state = 'closed';
    this.emit('state', 'closed');
  }

  #collect(signal: RtcSignal): void {
    if (signal.gen !== 0 || 'restart' in signal) {
      this.#ended = true;
      this.signal(this.remoteId, signal as unknown as Json);
      return;
    }
    if ('description' in signal) {
      // Browsers on the answering side may make an offer of their own first (perfect
      // negotiation rolls it back); only our role's description counts.
      if (signal.description.type !== this.role) return;
      this.#description = signal.description;
      // libdatachannel may have finished gathering before the description went out: then
      // the SDP holds every candidate and says so.
      this.#gathered = /^a=end-of-candidates/m.test(signal.description.sdp);
      this.#gatherTimer = setTimeout(() => ((this.#gathered = true), void this.#finish()), this.#gatherTimeoutMs);
    } else if (signal.candidate === null) {
      this.#gathered ||= this.#description !== undefined; // an end before our description is the rolled-back offer's
    } else {
      this.#candidates.push({ candidate: signal.candidate.candidate, ufrag: signal.candidate.usernameFragment ?? undefined });
    }
    void this.#finish();
  }

  /** Encodes our string once the description is known and gathering has ended (or timed out). */
  async #finish(): Promise<void> {
    if (!this.#description || !this.#gathered || this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#gatherTimer);
    const ufrag = /^a=ice-ufrag:(\S+)/m.exec(this.#description.sdp)?.[1];
    // Candidates of a rolled-back offer carry another ufrag.
    const candidates = this.#candidates.filter((c) => !c.ufrag || !ufrag || c.ufrag === ufrag).map((c) => c.candidate);
    try {
      this.#local = await encodeManual(this.#description, candidates);
      this.emit('local', this.#local);
      if (this.#heldSignals.length > 0) this.#holdTimer = setTimeout(() => this.#emitSignals(this.#heldSignals.splice(0)), this.#candidateHoldMs);
    } catch (err) {
      this.emit('error', err instanceof SignalingError ? err : new SignalingError('unsupported', `encoding the ${this.role}: ${String(err)}`, { cause: err }));
    }
  }

  /**
   * Gives the room the other side's string as signals. An offer's candidates are held back
   * until `candidateHoldMs` after our answer is made: libdatachannel on the offering side
   * fails a connection whose answer it applies after our ICE checks reached it (it connects
   * and runs DTLS inside setRemoteDescription, before it stores our fingerprint;
   * docs/architecture.md, "Early answers"). Without the candidates we cannot reach it first:
   * it reaches us when it applies the answer. They still follow, for a NAT in front of us
   * that lets the offering side's checks in only after ours went out.
   */
  #deliverRemote(): void {
    const remote = this.#remote!;
    let description = remote;
    let held: RtcSignal[] = [];
    if (remote.type === 'offer') {
      const { sdp, candidates } = splitCandidates(remote.sdp);
      description = { type: 'offer', sdp };
      held = candidates.map((candidate) => ({ pinhole: 'rtc', gen: 0, candidate }));
    }
    this.#heldSignals = [...held, { pinhole: 'rtc', gen: 0, candidate: null }];
    // After join() resolves, so the room has its member for the remote side.
    setTimeout(() => {
      this.#emitSignals([{ pinhole: 'rtc', gen: 0, description }]);
      if (remote.type === 'answer') this.#emitSignals(this.#heldSignals.splice(0));
    }, 0);
  }

  #emitSignals(signals: RtcSignal[]): void {
    const room = this.#room;
    if (this.#state === 'closed' || room === undefined) return;
    for (const data of signals) this.emit('signal', { room, from: this.remoteId, data: data as unknown as Json });
  }
}
