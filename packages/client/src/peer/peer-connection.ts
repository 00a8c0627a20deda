/**
 * One WebRTC connection to one remote peer, kept alive across network trouble.
 *
 * - Perfect negotiation (negotiation.ts): both sides may renegotiate at any time.
 *   `polite` defaults to `localId < remoteId`, so of two peers exactly one is polite
 *   whichever side computes it.
 * - Trickle ICE through `send` / `handleSignal`; signals carry the connection generation
 *   `gen`. Older generations are ignored; a newer one means the remote rebuilt its
 *   connection, and this side rebuilds to match.
 * - Repair: on 'failed', on 'disconnected' lasting `disconnectedTimeoutMs`, when the
 *   RTCPeerConnection closes under us, on `restartIce(reason)`, or (impolite side only, so
 *   the two sides never rebuild against each other) when the first connection is not
 *   'connected' after `connectTimeoutMs`. Where `pc.restartIce()`
 *   works (browsers) ICE restarts in place and data channels survive; after
 *   ICE_RESTARTS_BEFORE_REBUILD fruitless tries, or where it cannot (node-datachannel), the
 *   connection is rebuilt: old RTCPeerConnection closed, `gen` + 1, new one, 'reset' fires
 *   and the remote is told `{ restart: 'rebuild', gen }`. While not connected, restarts
 *   repeat after `restartTimeoutMs`, doubling up to `maxRestartTimeoutMs`; one that closes
 *   before it connects (libdatachannel closes it when its DTLS handshake fails) is rebuilt at
 *   once instead, IMMEDIATE_REBUILDS_AFTER_CLOSE times in a row. Only the timer's own retries
 *   double the wait: restarts on a close or failure (immediate rebuilds among them) do not.
 * - node-datachannel makes one offer per RTCPeerConnection and cannot roll back, so there
 *   only the impolite side offers and the polite side answers. (NodeRTCPeerConnection, node.ts,
 *   keeps libdatachannel from making offers of its own.)
 */
import { Emitter } from '../emitter.js';
import type { ChannelHost } from '../data/host.js';
import { detectCapabilities, type PeerCapabilities } from './capabilities.js';
import {
  CONTROL_CHANNEL_ID,
  CONTROL_CHANNEL_LABEL,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_DISCONNECTED_TIMEOUT_MS,
  DEFAULT_RESTART_TIMEOUT_MS,
  ICE_RESTARTS_BEFORE_REBUILD,
  IMMEDIATE_REBUILDS_AFTER_CLOSE,
  MAX_RESTART_TIMEOUT_MS,
} from '../defaults.js';
import { PeerError } from './errors.js';
import { Negotiation } from './negotiation.js';
import { connectivityReport, type ConnectivityReport } from './report.js';
import type { RtcSignal } from './signals.js';

/** The constructor of the WebRTC implementation: `globalThis.RTCPeerConnection` or node-datachannel's polyfill. */
export type RTCPeerConnectionConstructor = new (configuration?: RTCConfiguration) => RTCPeerConnection;

export interface PeerConnectionOptions {
  localId: string;
  remoteId: string;
  RTCPeerConnection: RTCPeerConnectionConstructor;
  /**
   * iceServers, iceTransportPolicy… for every RTCPeerConnection built; a function is called
   * at each (re)build, so a rebuild days later gets fresh TURN credentials.
   */
  configuration?: RTCConfiguration | (() => RTCConfiguration);
  /** Delivers a signal to the remote peer's `handleSignal` (through the Signaler). */
  send(signal: RtcSignal): void;
  /** Name of the signaling transport in use, for `report()`. */
  transport?: () => string;
  /** Kind of the Signaler in use ('hub', 'mqtt', …), for `report()`. */
  signaler?: () => string;
  /** See NegotiationOptions.dtlsServerAnswer (default true). */
  dtlsServerAnswer?: boolean;
  /** Default DEFAULT_CONNECT_TIMEOUT_MS; Infinity: a first connection is never rebuilt for being slow. */
  connectTimeoutMs?: number;
  /** Default DEFAULT_DISCONNECTED_TIMEOUT_MS. */
  disconnectedTimeoutMs?: number;
  /** Default DEFAULT_RESTART_TIMEOUT_MS. */
  restartTimeoutMs?: number;
  /** Default MAX_RESTART_TIMEOUT_MS. */
  maxRestartTimeoutMs?: number;
  /** Default `localId < remoteId`; both sides must agree that exactly one is polite. */
  polite?: boolean;
  /** Override what the implementation can do (default: detectCapabilities). */
  capabilities?: PeerCapabilities;
}

export type RestartMode = 'ice' | 'rebuild';

export type PeerConnectionEvents = {
  state: RTCPeerConnectionState;
  'ice-state': RTCIceConnectionState;
  track: { track: MediaStreamTrack; streams: readonly MediaStream[]; transceiver: RTCRtpTransceiver };
  datachannel: RTCDataChannel;
  /** A new RTCPeerConnection replaced the old one (whose channels and senders are gone). */
  reset: { gen: number };
  /** A repair started. `attempt` counts restarts since the connection was last connected. */
  restart: { reason: string; mode: RestartMode; attempt: number; gen: number };
  /** Signaling is 'stable' again after an exchange of descriptions. */
  negotiated: { gen: number };
  error: PeerError;
  closed: void;
};

export class PeerConnection extends Emitter<PeerConnectionEvents> implements ChannelHost {
  readonly localId: string;
  readonly remoteId: string;
  readonly polite: boolean;
  readonly capabilities: PeerCapabilities;
  readonly #options: PeerConnectionOptions;
  #pc!: RTCPeerConnection;
  #control!: RTCDataChannel;
  #negotiation!: Negotiation;
  #listeners!: AbortController;
  #gen = 0;
  #closed = false;
  #restartAttempt = 0;
  /** Restarts made by the retry timer since last connected: each doubles the next wait. */
  #retries = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #disconnectedTimer: ReturnType<typeof setTimeout> | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #signals: Promise<void> = Promise.resolve();
  #previousReport: ConnectivityReport | undefined;

  constructor(options: PeerConnectionOptions) {
    super();
    this.#options = options;
    this.localId = options.localId;
    this.remoteId = options.remoteId;
    this.polite = options.polite ?? options.localId < options.remoteId;
    const pc = new options.RTCPeerConnection(this.#configuration());
    this.capabilities = options.capabilities ?? detectCapabilities(pc);
    this.#attach(pc, 0);
    // Later connections are watched by the restart that made them (#retryTimer).
    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    if (!this.polite && Number.isFinite(connectTimeoutMs)) {
      this.#connectTimer = setTimeout(() => {
        this.#connectTimer = undefined;
        // A rebuild, not an ICE restart: a connection that never came up (e.g. Chromium's
        // transport left gathering after an offer collision) is not revived in place.
        if (!this.#retryTimer && this.#pc.connectionState !== 'connected') this.#restart('connect-timeout', true);
      }, connectTimeoutMs);
    }
  }

  /** The current RTCPeerConnection; replaced on every rebuild ('reset'). */
  get pc(): RTCPeerConnection {
    return this.#pc;
  }

  get gen(): number {
    return this.#gen;
  }

  /**
   * The current connection's control channel (negotiated, id CONTROL_CHANNEL_ID), replaced
   * with the connection on 'reset'. In-band signaling rides on it (signaling/in-band.ts).
   */
  get control(): RTCDataChannel {
    return this.#control;
  }

  get connectionState(): RTCPeerConnectionState {
    return this.#closed ? 'closed' : this.#pc.connectionState;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** RTCSctpTransport.maxMessageSize of the current connection; undefined before it is negotiated. */
  get maxMessageSize(): number | undefined {
    return this.#pc.sctp?.maxMessageSize;
  }

  createDataChannel(label: string, init?: RTCDataChannelInit): RTCDataChannel {
    if (this.#closed) throw new PeerError('closed', 'createDataChannel on a closed PeerConnection');
    return this.#pc.createDataChannel(label, init);
  }

  /**
   * Applies one signal from the remote peer. Signals are applied one at a time in call
   * order. Never rejects: failures are emitted as 'error'.
   */
  handleSignal(signal: RtcSignal): Promise<void> {
    this.#signals = this.#signals.then(() => this.#apply(signal));
    return this.#signals;
  }

  /**
   * Repairs the connection now (the room calls it on a network change or when signaling
   * comes back over another transport): ICE restart in place where possible, else rebuild.
   */
  restartIce(reason = 'requested'): void {
    if (this.#closed) return;
    this.#restart(reason);
  }

  /** Connectivity of the current connection; bitrates are measured since the previous call. */
  async report(): Promise<ConnectivityReport> {
    const stats = await this.#pc.getStats();
    const report = connectivityReport(stats, {
      previous: this.#previousReport?.gen === this.#gen ? this.#previousReport : undefined,
      state: this.connectionState,
      gen: this.#gen,
      transport: this.#options.transport?.(),
      signaler: this.#options.signaler?.(),
      rttUnit: this.capabilities.rttUnit,
      selectedCandidatePair: selectedCandidatePair(this.#pc),
    });
    this.#previousReport = report;
    return report;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimers();
    this.#detach();
    this.emit('state', 'closed');
    this.emit('closed', undefined);
    this.removeAllListeners();
  }

  #configuration(): RTCConfiguration | undefined {
    const c = this.#options.configuration;
    return typeof c === 'function' ? c() : c;
  }

  async #apply(signal: RtcSignal): Promise<void> {
    if (this.#closed || signal.gen < this.#gen) return;
    if (signal.gen > this.#gen) {
      // The remote rebuilt its connection: ours is useless to it now.
      this.#clearTimers();
      this.emit('restart', { reason: 'remote-rebuild', mode: 'rebuild', attempt: this.#restartAttempt, gen: signal.gen });
      this.#rebuild(signal.gen);
    }
    if ('restart' in signal) {
      if (signal.restart === 'ice') this.#restart('remote-request');
      return; // 'rebuild' of our own generation: already done
    }
    const negotiation = this.#negotiation;
    if ('description' in signal) await negotiation.handleDescription(signal.description, signal.setup);
    else await negotiation.handleCandidate(signal.candidate);
  }

  #restart(reason: string, rebuild = false): void {
    this.#clearTimers();
    const attempt = ++this.#restartAttempt;
    const inPlace =
      !rebuild && this.capabilities.restartIce && this.#pc.connectionState !== 'closed' && attempt <= ICE_RESTARTS_BEFORE_REBUILD;
    const mode: RestartMode = inPlace ? 'ice' : 'rebuild';
    this.emit('restart', { reason, mode, attempt, gen: inPlace ? this.#gen : this.#gen + 1 });
    if (inPlace) {
      this.#pc.restartIce(); // 'negotiationneeded' follows: an offer with new ICE credentials
    } else {
      const gen = this.#gen + 1;
      this.#options.send({ pinhole: 'rtc', gen, restart: 'rebuild' });
      this.#rebuild(gen);
    }
    const base = this.#options.restartTimeoutMs ?? DEFAULT_RESTART_TIMEOUT_MS;
    const max = this.#options.maxRestartTimeoutMs ?? MAX_RESTART_TIMEOUT_MS;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#pc.connectionState === 'connected') {
        this.#restartAttempt = this.#retries = 0;
      } else {
        this.#retries++;
        this.#restart('retry');
      }
    }, Math.min(max, base * 2 ** this.#retries));
  }

  #rebuild(gen: number): void {
    this.#detach();
    this.#attach(new this.#options.RTCPeerConnection(this.#configuration()), gen);
    this.emit('reset', { gen });
  }

  #attach(pc: RTCPeerConnection, gen: number): void {
    this.#pc = pc;
    this.#gen = gen;
    this.#listeners = new AbortController();
    const { signal } = this.#listeners;
    pc.addEventListener('connectionstatechange', () => this.#onState(pc.connectionState), { signal });
    pc.addEventListener(
      'iceconnectionstatechange',
      () => {
        this.emit('ice-state', pc.iceConnectionState);
        if (pc.iceConnectionState === 'failed' || pc.iceConnectionState === 'disconnected') this.#onTrouble(pc.iceConnectionState);
      },
      { signal },
    );
    pc.addEventListener('datachannel', (event) => this.emit('datachannel', event.channel), { signal });
    pc.addEventListener(
      'track',
      (event) => this.emit('track', { track: event.track, streams: event.streams, transceiver: event.transceiver }),
      { signal },
    );
    this.#negotiation = new Negotiation({
      pc,
      gen,
      polite: this.polite,
      ...(this.#options.dtlsServerAnswer === undefined ? {} : { dtlsServerAnswer: this.#options.dtlsServerAnswer }),
      send: (s) => this.#options.send(s),
      negotiated: () => this.emit('negotiated', { gen }),
      error: (err) => this.emit('error', err),
    });
    this.#control = pc.createDataChannel(CONTROL_CHANNEL_LABEL, { negotiated: true, id: CONTROL_CHANNEL_ID });
    // node-datachannel never signals a need: the impolite side offers once, now.
    if (!this.capabilities.renegotiation && !this.polite) void this.#negotiation.offer();
  }

  #detach(): void {
    this.#listeners.abort();
    this.#negotiation.dispose();
    this.#pc.close();
  }

  #onState(state: RTCPeerConnectionState): void {
    this.emit('state', state);
    if (state === 'connected') {
      this.#restartAttempt = this.#retries = 0;
      this.#clearTimers();
    } else if (state === 'failed' || state === 'disconnected' || state === 'closed') {
      this.#onTrouble(state);
    }
  }

  #onTrouble(state: 'failed' | 'disconnected' | 'closed'): void {
    if (this.#closed) return;
    if (this.#retryTimer) {
      // A repair is under way and its timer decides, unless the connection it built is gone
      // already: nothing can come of waiting for a closed one (IMMEDIATE_REBUILDS_AFTER_CLOSE).
      if (state === 'closed' && this.#restartAttempt <= IMMEDIATE_REBUILDS_AFTER_CLOSE) this.#restart('closed', true);
      return;
    }
    if (state !== 'disconnected') return this.#restart(state);
    if (this.#disconnectedTimer) return;
    const timeout = this.#options.disconnectedTimeoutMs ?? DEFAULT_DISCONNECTED_TIMEOUT_MS;
    this.#disconnectedTimer = setTimeout(() => {
      this.#disconnectedTimer = undefined;
      const now = this.#pc.connectionState;
      if (now === 'disconnected' || now === 'failed' || this.#pc.iceConnectionState === 'disconnected') this.#restart('disconnected');
    }, timeout);
  }

  #clearTimers(): void {
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#disconnectedTimer);
    clearTimeout(this.#connectTimer);
    this.#retryTimer = this.#disconnectedTimer = this.#connectTimer = undefined;
  }
}

/** node-datachannel's `selectedCandidatePair()` extension (its getStats omits the protocol). */
function selectedCandidatePair(pc: RTCPeerConnection): { local: { transportType?: string } } | undefined {
  const ext = (pc as { selectedCandidatePair?: () => { local: { transportType?: string } } | null }).selectedCandidatePair;
  return typeof ext === 'function' ? (ext.call(pc) ?? undefined) : undefined;
}
