/**
 * Perfect negotiation on one RTCPeerConnection (W3C webrtc-pc, "Perfect negotiation
 * example"), plus trickle ICE. One instance per RTCPeerConnection: when PeerConnection
 * rebuilds, it disposes this one (nothing it still has in flight is sent) and makes another.
 *
 * - Either side may offer whenever 'negotiationneeded' fires, except that the polite side
 *   leaves a connection's first offer to the impolite side (POLITE_FIRST_OFFER_WAIT_MS).
 *   On an offer collision the
 *   impolite side ignores the remote offer; the polite side applies it, which rolls its own
 *   offer back implicitly (setRemoteDescription in 'have-local-offer').
 * - Remote candidates wait until a remote description is set (signals may overtake each
 *   other), then apply in arrival order. `null` = end-of-candidates.
 * - Local candidates go out after the local description, once each, minus those its SDP
 *   already holds, and each gathering ends with exactly one `null` (sendCandidate).
 * @internal
 */
import { POLITE_FIRST_OFFER_WAIT_MS } from '../defaults.js';
import { toPeerError, type PeerError } from './errors.js';
import type { RtcCandidateSignal, RtcSignal } from './signals.js';

type RemoteCandidate = RtcCandidateSignal['candidate'];

export interface NegotiationOptions {
  pc: RTCPeerConnection;
  gen: number;
  polite: boolean;
  /**
   * Default true: answer a first offer as the DTLS server (asDtlsServer). False where the
   * answer reaches the offerer long after the offer (one-shot manual strings): the answerer
   * is then ICE-connected long before, the offerer connects from those peer-reflexive pairs
   * inside setRemoteDescription(answer), and as DTLS client it can verify the answerer's
   * certificate before libdatachannel has stored the answer's fingerprint — a failure that a
   * one-shot exchange cannot repair. As the default client the answerer's ClientHello is
   * retried by OpenSSL (1 s, 2 s…) until the offerer listens, which a person pasting never notices.
   */
  dtlsServerAnswer?: boolean;
  send(signal: RtcSignal): void;
  /** Signaling is back to 'stable' after applying a remote description. */
  negotiated(): void;
  error(err: PeerError): void;
}

/**
 * The first offer on a connection, when its signal asks for it (`setup: 'active'`, which
 * every SDK offer carries), is applied as if the offerer had taken the DTLS client
 * role (`a=setup:active` for `actpass`), so our answer says `passive` and we wait for its
 * ClientHello. Why: the offerer can start DTLS only once our answer has reached it, and by
 * then we are ready; as the default client (answer `active`) we would send our ClientHello
 * as soon as ICE connects, libdatachannel drops it while it still waits for the answer, and
 * OpenSSL retries only after 1 s — a 1 s stall in a third to a half of Node ↔ Node connects
 * (bench/client/open.mjs). What goes on the wire stays standard (an `actpass` offer, a
 * `passive` answer). Later offers keep the roles the connection already has.
 * Offers without `setup` (other stacks) get the default `active` answer: the offerer, ICE
 * controlling, is then the DTLS server, and RFC 8832's stream-id parity (DTLS client even,
 * server odd) agrees with stacks that derive it from the ICE role instead (aiortc: the
 * controlling side odd). With a passive answer both aiortc and we would pick odd ids, and
 * channels opened at the same time on both sides collide and never open.
 */
export function asDtlsServer(offer: RTCSessionDescriptionInit): RTCSessionDescriptionInit {
  return offer.sdp ? { type: offer.type, sdp: offer.sdp.replace(/^a=setup:actpass\r?$/gm, (line) => line.replace('actpass', 'active')) } : offer;
}

export class Negotiation {
  readonly gen: number;
  readonly #pc: RTCPeerConnection;
  readonly #options: NegotiationOptions;
  readonly #abort = new AbortController();
  #makingOffer = false;
  #ignoreOffer = false;
  #isSettingRemoteAnswerPending = false;
  #remoteDescriptionSet = false;
  #pendingCandidates: RemoteCandidate[] = [];
  #firstOfferTimer: ReturnType<typeof setTimeout> | undefined;
  /** End-of-candidates was sent for the current gathering (reset by each new local description). */
  #endOfCandidatesSent = false;
  /** A local description went out: candidates may follow it (before, they are held). */
  #described = false;
  #heldCandidates: (RTCIceCandidate | null)[] = [];
  /** Candidates the remote already has (candidateKey): from our SDPs or sent one by one. */
  readonly #remoteKnows = new Set<string>();

  constructor(options: NegotiationOptions) {
    this.#options = options;
    this.#pc = options.pc;
    this.gen = options.gen;
    const { signal } = this.#abort;
    this.#pc.addEventListener('icecandidate', (event) => this.#sendCandidate(event.candidate), { signal });
    this.#pc.addEventListener('negotiationneeded', () => this.#negotiationNeeded(), { signal });
    // node-datachannel never fires icecandidate(null); gathering 'complete' is its end-of-candidates.
    this.#pc.addEventListener('icegatheringstatechange', () => this.#pc.iceGatheringState === 'complete' && this.#sendCandidate(null), { signal });
  }

  get disposed(): boolean {
    return this.#abort.signal.aborted;
  }

  /**
   * Makes and sends an offer. Browsers call it on 'negotiationneeded'. node-datachannel
   * never fires that event: PeerConnection calls this once on the impolite side, and
   * NodeRTCPeerConnection (node.ts) makes the offer here, not on its own.
   */
  async offer(): Promise<void> {
    try {
      this.#makingOffer = true;
      await this.#pc.setLocalDescription();
      this.#sendLocalDescription();
    } catch (err) {
      if (!this.disposed) this.#options.error(toPeerError('negotiation-failed', 'making an offer', err));
    } finally {
      this.#makingOffer = false;
    }
  }

  /** `setup`: the signal's `setup` field (an offerer asking to be the DTLS client). */
  async handleDescription(description: RTCSessionDescriptionInit, setup?: 'active'): Promise<void> {
    const pc = this.#pc;
    const readyForOffer = !this.#makingOffer && (pc.signalingState === 'stable' || this.#isSettingRemoteAnswerPending);
    const offerCollision = description.type === 'offer' && !readyForOffer;
    this.#ignoreOffer = !this.#options.polite && offerCollision;
    if (this.#ignoreOffer) return;

    try {
      this.#isSettingRemoteAnswerPending = description.type === 'answer';
      try {
        const first = description.type === 'offer' && !this.#remoteDescriptionSet;
        const asServer = first && setup === 'active' && this.#options.dtlsServerAnswer !== false;
        await pc.setRemoteDescription(asServer ? asDtlsServer(description) : description);
      } finally {
        this.#isSettingRemoteAnswerPending = false;
      }
      this.#remoteDescriptionSet = true;
      await this.#flushCandidates();
      if (description.type === 'offer') {
        await pc.setLocalDescription();
        this.#sendLocalDescription();
      }
    } catch (err) {
      if (!this.disposed) this.#options.error(toPeerError('negotiation-failed', `applying the remote ${description.type}`, err));
      return;
    }
    if (!this.disposed && pc.signalingState === 'stable') this.#options.negotiated();
  }

  async handleCandidate(candidate: RemoteCandidate): Promise<void> {
    if (!this.#remoteDescriptionSet) this.#pendingCandidates.push(candidate);
    else await this.#addCandidate(candidate);
  }

  dispose(): void {
    clearTimeout(this.#firstOfferTimer);
    this.#abort.abort();
    this.#pendingCandidates = [];
  }

  /**
   * The polite side's first 'negotiationneeded' waits for the impolite side's offer; once
   * that is answered the browser fires the event again if anything is left to negotiate.
   */
  #negotiationNeeded(): void {
    const first = (): boolean => !this.#remoteDescriptionSet && this.#pc.signalingState === 'stable';
    if (!this.#options.polite || !first()) return void this.offer();
    this.#firstOfferTimer ??= setTimeout(() => {
      this.#firstOfferTimer = undefined;
      if (!this.disposed && first()) void this.offer();
    }, POLITE_FIRST_OFFER_WAIT_MS);
  }

  async #flushCandidates(): Promise<void> {
    const pending = this.#pendingCandidates;
    this.#pendingCandidates = [];
    for (const candidate of pending) await this.#addCandidate(candidate);
  }

  async #addCandidate(candidate: RemoteCandidate): Promise<void> {
    try {
      // No argument = end-of-candidates (webrtc-pc); node-datachannel ignores it.
      if (candidate) await this.#pc.addIceCandidate(candidate);
      else await this.#pc.addIceCandidate();
    } catch {
      // Not fatal, and expected: candidates of an offer we ignored, or of the ICE generation
      // before a restart (wrong ufrag), are refused. ICE carries on with the others.
    }
  }

  #sendLocalDescription(): void {
    const description = this.#pc.localDescription;
    if (this.disposed || !description?.sdp) return;
    if (description.type !== 'offer' && description.type !== 'answer') return;
    if (this.#pc.iceGatheringState !== 'complete') this.#endOfCandidatesSent = false; // a new gathering (ICE restart)
    const setup = description.type === 'offer' ? { setup: 'active' as const } : {};
    this.#options.send({ pinhole: 'rtc', gen: this.gen, description: { type: description.type, sdp: description.sdp }, ...setup });
    const ufrag = sdpUfrag(description.sdp);
    for (const candidate of sdpCandidates(description.sdp)) this.#remoteKnows.add(candidateKey(candidate, ufrag));
    this.#described = true;
    for (const candidate of this.#heldCandidates.splice(0)) this.#sendCandidate(candidate);
  }

  /**
   * The trickle sequence (docs/protocol/peer.md §12.1): the description first, then each
   * candidate its SDP did not hold, once, then one `null`. Why so careful: libdatachannel
   * reports candidates after a description that already holds them (with no ICE servers
   * gathering is over before the description goes out, and its SDP then says
   * a=end-of-candidates), and may report gathering 'complete' before the last candidates;
   * browsers can fire icecandidate before our description is sent. Remotes that do not
   * trickle (aiortc) refuse candidates after end-of-candidates, so duplicates are not harmless.
   */
  #sendCandidate(candidate: RTCIceCandidate | null): void {
    if (this.disposed) return;
    if (!this.#described) {
      this.#heldCandidates.push(candidate);
      return;
    }
    // An empty candidate string is the legacy end-of-candidates marker.
    if (!candidate?.candidate) {
      if (this.#endOfCandidatesSent) return; // both the null candidate and gathering 'complete' say it
      // Whatever gathering found is in the local description now: send what the remote lacks first.
      for (const line of sdpCandidates(this.#pc.localDescription?.sdp ?? '')) this.#sendAttribute(line, null);
      this.#endOfCandidatesSent = true;
      this.#options.send({ pinhole: 'rtc', gen: this.gen, candidate: null });
      return;
    }
    this.#sendAttribute(candidate.candidate, candidate);
  }

  #sendAttribute(attribute: string, candidate: RTCIceCandidate | null): void {
    // libdatachannel prefixes 'a='; browsers expect the bare attribute value.
    const bare = attribute.replace(/^a=/, '');
    const sdp = this.#pc.localDescription?.sdp ?? '';
    const ufrag = candidate ? (candidate.usernameFragment ?? sdpUfrag(sdp)) : sdpUfrag(sdp);
    const key = candidateKey(bare, ufrag);
    if (this.#remoteKnows.has(key)) return;
    this.#remoteKnows.add(key);
    // A candidate taken from the SDP belongs to its first m-section: the SDK bundles everything.
    this.#options.send({
      pinhole: 'rtc',
      gen: this.gen,
      candidate: {
        candidate: bare,
        sdpMid: candidate ? (candidate.sdpMid ?? null) : (/^a=mid:(\S+)/m.exec(sdp)?.[1] ?? null),
        sdpMLineIndex: candidate ? (candidate.sdpMLineIndex ?? null) : 0,
        usernameFragment: ufrag ?? null,
      },
    });
  }
}

/**
 * What identifies a candidate: its ICE credentials and the first eight fields of the
 * attribute (foundation, component, transport, priority, address, port, `typ`, type).
 * Browsers add extensions (`generation`, `ufrag`, `network-id`) to the event's string
 * that their SDP lines lack.
 */
function candidateKey(attribute: string, ufrag: string | undefined): string {
  return `${ufrag ?? ''} ${attribute.split(/\s+/).slice(0, 8).join(' ')}`;
}

function sdpUfrag(sdp: string): string | undefined {
  return /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
}

/** The `candidate:…` attributes of an SDP (without `a=`). */
function sdpCandidates(sdp: string): string[] {
  return sdp
    .split(/\r?\n/)
    .filter((line) => line.startsWith('a=candidate:'))
    .map((line) => line.slice(2).trim());
}
