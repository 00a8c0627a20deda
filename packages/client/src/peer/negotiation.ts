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
 * @internal
 */
import { POLITE_FIRST_OFFER_WAIT_MS } from './defaults.js';
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
 * The first offer on a connection is applied as if the offerer had taken the DTLS client
 * role (`a=setup:active` for `actpass`), so our answer says `passive` and we wait for its
 * ClientHello. Why: the offerer can start DTLS only once our answer has reached it, and by
 * then we are ready; as the default client (answer `active`) we would send our ClientHello
 * as soon as ICE connects, libdatachannel drops it while it still waits for the answer, and
 * OpenSSL retries only after 1 s — a 1 s stall in a third to a half of Node ↔ Node connects
 * (bench/client/open.mjs). What goes on the wire stays standard (an `actpass` offer, a
 * `passive` answer). Later offers keep the roles the connection already has.
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

  async handleDescription(description: RTCSessionDescriptionInit): Promise<void> {
    const pc = this.#pc;
    const readyForOffer = !this.#makingOffer && (pc.signalingState === 'stable' || this.#isSettingRemoteAnswerPending);
    const offerCollision = description.type === 'offer' && !readyForOffer;
    this.#ignoreOffer = !this.#options.polite && offerCollision;
    if (this.#ignoreOffer) return;

    try {
      this.#isSettingRemoteAnswerPending = description.type === 'answer';
      try {
        const first = description.type === 'offer' && !this.#remoteDescriptionSet;
        await pc.setRemoteDescription(first && this.#options.dtlsServerAnswer !== false ? asDtlsServer(description) : description);
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
    this.#options.send({ pinhole: 'rtc', gen: this.gen, description: { type: description.type, sdp: description.sdp } });
  }

  #sendCandidate(candidate: RTCIceCandidate | null): void {
    if (this.disposed) return;
    // An empty candidate string is the legacy end-of-candidates marker.
    if (!candidate?.candidate) {
      if (this.#endOfCandidatesSent) return; // both the null candidate and gathering 'complete' say it
      this.#endOfCandidatesSent = true;
      this.#options.send({ pinhole: 'rtc', gen: this.gen, candidate: null });
      return;
    }
    this.#options.send({
      pinhole: 'rtc',
      gen: this.gen,
      candidate: {
        // libdatachannel prefixes 'a='; browsers expect the bare attribute value.
        candidate: candidate.candidate.replace(/^a=/, ''),
        sdpMid: candidate.sdpMid ?? null,
        sdpMLineIndex: candidate.sdpMLineIndex ?? null,
        usernameFragment: candidate.usernameFragment ?? null,
      },
    });
  }
}
