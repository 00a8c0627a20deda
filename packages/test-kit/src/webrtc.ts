/**
 * Real WebRTC peers for relay tests: node-datachannel (libdatachannel + libjuice) in this
 * process, and Chromium (through playwright-core) for what libjuice cannot do (TURN over
 * TCP and TLS).
 */
import { PeerConnection, type IceServer, type RelayType } from 'node-datachannel';
import { RTCPeerConnection } from 'node-datachannel/polyfill';

/** IceServerInit (the DOM types are not in this project's lib). */
export interface IceServerInit {
  urls: string | string[];
  username?: string;
  credential?: string;
}

interface CandidateEvent {
  candidate: { candidate: string; sdpMid?: string | null } | null;
}

/** One end of a selected candidate pair, as both libraries report it. */
export interface PairEnd {
  type: string;
  address: string;
  port: number;
}

export interface PeerResult {
  local: PairEnd;
  remote: PairEnd;
}

/** What connecting two peers and exchanging one message each way produced. */
export interface PairResult {
  /** From the first offer to both messages received, ms. */
  connectMs: number;
  /** Text received by the answerer, then by the offerer. */
  received: [string, string];
  /** Selected candidate pairs of the offerer and the answerer. */
  selected: [PeerResult, PeerResult];
  /** Candidates each peer gathered, as SDP lines. */
  gathered: [string[], string[]];
}

/**
 * An IceServerInit for libdatachannel. Its URL parser (rtc::IceServer) takes
 * `turn:USER:PASS@host:port` apart at the first ':' and percent-decodes both parts, and the
 * polyfill builds exactly that string: a TURN REST username (`expiry:identity`) or a base64
 * password with '/' and '+' only survive percent-encoded.
 */
export function libdatachannelIceServer(url: string, username: string, credential: string): IceServerInit {
  return { urls: url, username: encodeURIComponent(username), credential: encodeURIComponent(credential) };
}

/** The native form: no URL parsing, credentials passed as they are. */
export function nativeIceServer(host: string, port: number, username: string, password: string, relayType: RelayType = 'TurnUdp'): IceServer {
  return { hostname: host, port, username, password, relayType };
}

export type PeerConfig = { iceServers: IceServerInit[] } | { native: IceServer[] };

/** The polyfill's config type leans on DOM types this project does not load. */
type PolyfillConfig = ConstructorParameters<typeof RTCPeerConnection>[0];

let nextPeer = 0;
/** A relay-only node-datachannel RTCPeerConnection (polyfill), built from URLs or native IceServer objects. */
export function relayPeer(config: PeerConfig): RTCPeerConnection {
  if ('native' in config) {
    const native = new PeerConnection(`relay-test-${nextPeer++}`, { iceServers: config.native, iceTransportPolicy: 'relay' });
    return new RTCPeerConnection({ iceTransportPolicy: 'relay', iceServers: [], peerConnection: native } as unknown as PolyfillConfig);
  }
  return new RTCPeerConnection({ iceTransportPolicy: 'relay', iceServers: config.iceServers } as unknown as PolyfillConfig);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms))),
  ]);
}

function parseCandidate(line: string): PairEnd {
  // candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> …
  const f = line.replace(/^a=/, '').split(' ');
  return { address: f[4] ?? '', port: Number(f[5]), type: f[7] ?? '' };
}

/**
 * Connects `a` (offerer) and `b` with trickle ICE over direct calls, opens a data channel,
 * sends one message each way and reads both selected candidate pairs. Closes nothing.
 */
export async function connectPeers(a: RTCPeerConnection, b: RTCPeerConnection, timeoutMs = 15_000): Promise<PairResult> {
  const gathered: [string[], string[]] = [[], []];
  a.onicecandidate = (e: CandidateEvent) => {
    if (!e.candidate?.candidate) return;
    gathered[0].push(e.candidate.candidate);
    void b.addIceCandidate(e.candidate);
  };
  b.onicecandidate = (e: CandidateEvent) => {
    if (!e.candidate?.candidate) return;
    gathered[1].push(e.candidate.candidate);
    void a.addIceCandidate(e.candidate);
  };
  const t0 = performance.now();
  const atB = new Promise<string>((resolve) => {
    b.ondatachannel = (e) => {
      e.channel.onmessage = (m) => {
        resolve(String(m.data));
        e.channel.send('pong from b');
      };
    };
  });
  const dc = a.createDataChannel('relay-test');
  const atA = new Promise<string>((resolve) => (dc.onmessage = (m) => resolve(String(m.data))));
  dc.onopen = () => dc.send('ping from a');
  const offer = await a.createOffer();
  await a.setLocalDescription(offer);
  await b.setRemoteDescription(offer);
  const answer = await b.createAnswer();
  await b.setLocalDescription(answer);
  await a.setRemoteDescription(answer);
  const received = await withTimeout(Promise.all([atB, atA]), timeoutMs, 'data channel through the relay');
  const connectMs = performance.now() - t0;
  const pair = (pc: RTCPeerConnection): PeerResult => {
    const p = (pc as unknown as { selectedCandidatePair(): { local: { candidate: string }; remote: { candidate: string } } | null }).selectedCandidatePair();
    if (!p) throw new Error('no selected candidate pair');
    return { local: parseCandidate(p.local.candidate), remote: parseCandidate(p.remote.candidate) };
  };
  return { connectMs, received, selected: [pair(a), pair(b)], gathered };
}

/** The selected pair as getStats() reports it (local-candidate / remote-candidate entries). */
export async function statsPair(pc: RTCPeerConnection): Promise<{ local?: string; remote?: string }> {
  const report = await pc.getStats();
  const out: { local?: string; remote?: string } = {};
  report.forEach((s: { type: string; candidateType?: string }) => {
    if (s.type === 'local-candidate') out.local = s.candidateType;
    if (s.type === 'remote-candidate') out.remote = s.candidateType;
  });
  return out;
}

/** Waits for ICE gathering to finish; resolves with the candidates gathered. */
export function gatherOnly(pc: RTCPeerConnection, timeoutMs = 10_000): Promise<string[]> {
  const candidates: string[] = [];
  pc.onicecandidate = (e: CandidateEvent) => {
    if (e.candidate?.candidate) candidates.push(e.candidate.candidate);
  };
  const done = new Promise<string[]>((resolve) => {
    const check = (): void => {
      if (pc.iceGatheringState === 'complete') resolve(candidates);
    };
    pc.onicegatheringstatechange = check;
  });
  pc.createDataChannel('gather');
  void pc.createOffer().then((o) => pc.setLocalDescription(o));
  return withTimeout(done, timeoutMs, 'ICE gathering');
}

/** What `browserPair` reports from inside the page. */
export interface BrowserPairResult {
  received: string[];
  connectMs: number;
  errors: string[];
  local?: { candidateType: string; address: string; port: number; relayProtocol?: string; url?: string };
  remote?: { candidateType: string; address: string; port: number };
}

/**
 * Runs inside a Chromium page: two relay-only RTCPeerConnections with `iceServers`, a data
 * channel, one message each way; resolves with the offerer's selected pair from getStats().
 * A string, not a function, so the test transform cannot add helpers the page lacks.
 */
const BROWSER_PAIR = `async ({ iceServers, timeoutMs }) => {
  const config = { iceTransportPolicy: 'relay', iceServers };
  const a = new RTCPeerConnection(config);
  const b = new RTCPeerConnection(config);
  const errors = [];
  for (const pc of [a, b]) pc.addEventListener('icecandidateerror', (e) => errors.push(e.errorCode + ' ' + e.errorText + ' ' + e.url));
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const t0 = performance.now();
  const atB = new Promise((resolve) => {
    b.ondatachannel = (e) => {
      e.channel.onmessage = (m) => { resolve(String(m.data)); e.channel.send('pong from b'); };
    };
  });
  const dc = a.createDataChannel('relay-test');
  const atA = new Promise((resolve) => (dc.onmessage = (m) => resolve(String(m.data))));
  dc.onopen = () => dc.send('ping from a');
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription();
  await a.setRemoteDescription(b.localDescription);
  const received = await Promise.race([Promise.all([atB, atA]), new Promise((r) => setTimeout(() => r([]), timeoutMs))]);
  const connectMs = performance.now() - t0;
  const stats = await a.getStats();
  const result = { received, connectMs, errors };
  stats.forEach((s) => {
    if (s.type !== 'transport' || !s.selectedCandidatePairId) return;
    const pair = stats.get(s.selectedCandidatePairId);
    const l = stats.get(pair.localCandidateId);
    const r = stats.get(pair.remoteCandidateId);
    result.local = { candidateType: l.candidateType, address: l.address, port: l.port, relayProtocol: l.relayProtocol, url: l.url };
    result.remote = { candidateType: r.candidateType, address: r.address, port: r.port };
  });
  a.close();
  b.close();
  return result;
}`;

/** Something with playwright's `page.evaluate(expression)`. */
export interface EvaluatingPage {
  evaluate<R>(expression: string): Promise<R>;
}

export function browserPair(page: EvaluatingPage, iceServers: IceServerInit[], timeoutMs = 10_000): Promise<BrowserPairResult> {
  return page.evaluate<BrowserPairResult>(`(${BROWSER_PAIR})(${JSON.stringify({ iceServers, timeoutMs })})`);
}
