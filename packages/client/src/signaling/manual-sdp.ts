/**
 * Manual / QR rendezvous strings (docs/protocol/rendezvous.md §14.3): a complete (non-trickle) offer or
 * answer in a few hundred characters. For a data-channel-only description, only what the
 * remote needs is kept — ICE ufrag/pwd, the DTLS fingerprint and setup role, the
 * candidates, the mid, SCTP port and max message size — and a valid SDP is rebuilt from it
 * on the other side. Anything else (media sections) travels as the whole SDP. Either form
 * is deflated (CompressionStream 'deflate-raw', in browsers and Node 20 alike), base64url
 * encoded and prefixed with the format version.
 *
 *   PH1c<base64url(deflate-raw(compact text))>   data-channel only
 *   PH1s<base64url(deflate-raw(SDP))>            any SDP (media)
 */
import { SignalingError } from './errors.js';
import { base64url, fromBase64url } from './broker-wire.js';
import { MAX_MANUAL_INFLATED_BYTES } from '../defaults.js';

export const MANUAL_PREFIX = 'PH1';

export interface ManualDescription {
  type: 'offer' | 'answer';
  sdp: string;
}

/** One ICE candidate in the compact form (RFC 8839 §5.1 fields the remote needs). */
export interface CompactCandidate {
  type: 'host' | 'srflx' | 'prflx' | 'relay';
  /** 'udp', or TCP with its RFC 6544 tcptype. */
  transport: 'udp' | 'tcp-active' | 'tcp-passive' | 'tcp-so';
  address: string;
  port: number;
}

/** What a data-channel-only description boils down to. */
export interface CompactDescription {
  type: 'offer' | 'answer';
  ufrag: string;
  pwd: string;
  /** RFC 8122 setup attribute. */
  setup: 'actpass' | 'active' | 'passive';
  /** SHA-256 certificate fingerprint, 32 bytes. */
  fingerprint: Uint8Array;
  mid: string;
  sctpPort: number;
  maxMessageSize: number;
  candidates: CompactCandidate[];
}

const TYPES = { host: 'h', srflx: 's', prflx: 'p', relay: 'r' } as const;
const TRANSPORTS = { udp: 'u', 'tcp-active': 'a', 'tcp-passive': 'p', 'tcp-so': 'o' } as const;
const SETUPS = { actpass: 'p', active: 'a', passive: 's' } as const;
/** RFC 8445 §5.1.2.2 recommended type preferences, for rebuilding priorities. */
const TYPE_PREFERENCE = { host: 126, prflx: 110, srflx: 100, relay: 0 } as const;
const DEFAULT_SCTP_PORT = 5000;
const DEFAULT_MAX_MESSAGE_SIZE = 65536; // RFC 8841 §6.1 default when the attribute is absent

const ICE_CHARS = /^[A-Za-z0-9+/]+$/;
const ADDRESS = /^[A-Za-z0-9.:-]{1,253}$/;

function invert<K extends string, V extends string>(table: Record<K, V>): Record<string, K> {
  return Object.fromEntries(Object.entries(table).map(([k, v]) => [v, k])) as Record<string, K>;
}
const TYPE_OF = invert(TYPES);
const TRANSPORT_OF = invert(TRANSPORTS);
const SETUP_OF = invert(SETUPS);

function bad(message: string, cause?: unknown): SignalingError {
  return new SignalingError('bad-manual-string', message, cause === undefined ? undefined : { cause });
}

/** Parses `a=candidate:` lines / candidate strings into the compact form (unknown kinds are skipped). */
export function parseCandidate(line: string): CompactCandidate | undefined {
  // candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> [raddr … rport …] [tcptype …]
  const fields = line.replace(/^a=/, '').replace(/^candidate:/, '').trim().split(/\s+/);
  if (fields.length < 8 || fields[6] !== 'typ' || fields[1] !== '1') return undefined;
  const type = fields[7] as CompactCandidate['type'];
  if (!(type in TYPES)) return undefined;
  const port = Number(fields[5]);
  const address = fields[4]!;
  if (!Number.isInteger(port) || port < 1 || port > 65535 || !ADDRESS.test(address)) return undefined;
  const proto = fields[2]!.toLowerCase();
  let transport: CompactCandidate['transport'];
  if (proto === 'udp') transport = 'udp';
  else if (proto === 'tcp') {
    const i = fields.indexOf('tcptype');
    const tcptype = i > 0 ? fields[i + 1] : undefined;
    if (tcptype !== 'active' && tcptype !== 'passive' && tcptype !== 'so') return undefined;
    transport = `tcp-${tcptype}`;
  } else return undefined;
  return { type, transport, address, port };
}

function attribute(sdp: string, name: string): string | undefined {
  const match = new RegExp(`^a=${name}:(.*?)\\s*$`, 'm').exec(sdp);
  return match?.[1];
}

/**
 * The compact form of a data-channel-only description, with `extraCandidates` (trickled
 * ones) merged in; undefined when the SDP has anything else (media) or an unusual fingerprint.
 */
export function compactDescription(description: ManualDescription, extraCandidates: readonly string[] = []): CompactDescription | undefined {
  const { sdp } = description;
  const sections = sdp.split(/^(?=m=)/m).slice(1);
  if (sections.length !== 1 || !/^m=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel/.test(sections[0]!)) return undefined;
  const ufrag = attribute(sdp, 'ice-ufrag');
  const pwd = attribute(sdp, 'ice-pwd');
  const fp = /^a=fingerprint:sha-256 ((?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2})\s*$/m.exec(sdp)?.[1];
  const setup = attribute(sdp, 'setup');
  const mid = attribute(sdp, 'mid') ?? '0';
  if (!ufrag || !pwd || !fp || !ICE_CHARS.test(ufrag) || !ICE_CHARS.test(pwd) || !setup || !(setup in SETUPS) || !/^[A-Za-z0-9_-]{1,32}$/.test(mid)) {
    return undefined;
  }
  const seen = new Set<string>();
  const candidates: CompactCandidate[] = [];
  for (const line of [...sdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:')), ...extraCandidates]) {
    const c = parseCandidate(line);
    const key = c && `${c.transport} ${c.address} ${c.port}`;
    if (!c || seen.has(key!)) continue;
    seen.add(key!);
    candidates.push(c);
  }
  return {
    type: description.type,
    ufrag,
    pwd,
    setup: setup as CompactDescription['setup'],
    fingerprint: Uint8Array.from(fp.split(':'), (h) => parseInt(h, 16)),
    mid,
    sctpPort: Number(attribute(sdp, 'sctp-port') ?? DEFAULT_SCTP_PORT),
    maxMessageSize: Number(attribute(sdp, 'max-message-size') ?? DEFAULT_MAX_MESSAGE_SIZE),
    candidates,
  };
}

/** The compact text: space-separated fields (docs/protocol/rendezvous.md §14.3). */
export function compactText(c: CompactDescription): string {
  return [
    c.type === 'offer' ? 'o' : 'a',
    SETUPS[c.setup],
    c.ufrag,
    c.pwd,
    base64url(c.fingerprint),
    c.mid,
    String(c.sctpPort),
    String(c.maxMessageSize),
    ...c.candidates.map((x) => `${TYPES[x.type]}${TRANSPORTS[x.transport]}${x.port},${x.address}`),
  ].join(' ');
}

export function parseCompactText(text: string): CompactDescription {
  const [type, setup, ufrag, pwd, fp, mid, sctpPort, maxMessageSize, ...cands] = text.split(' ');
  if (type !== 'o' && type !== 'a') throw bad(`unknown description type ${JSON.stringify(type)}`);
  if (!setup || !(setup in SETUP_OF)) throw bad(`unknown DTLS setup role ${JSON.stringify(setup)}`);
  if (!ufrag || !ICE_CHARS.test(ufrag) || ufrag.length > 256) throw bad('bad ICE ufrag');
  if (!pwd || !ICE_CHARS.test(pwd) || pwd.length > 256) throw bad('bad ICE password');
  let fingerprint: Uint8Array;
  try {
    fingerprint = fromBase64url(fp ?? '', 'the fingerprint');
  } catch (err) {
    throw bad('the fingerprint is not base64url', err);
  }
  if (fingerprint.byteLength !== 32) throw bad('the fingerprint is not 32 bytes (SHA-256)');
  if (!mid || !/^[A-Za-z0-9_-]{1,32}$/.test(mid)) throw bad('bad mid');
  const port = Number(sctpPort);
  const size = Number(maxMessageSize);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad('bad SCTP port');
  if (!Number.isSafeInteger(size) || size < 0) throw bad('bad max message size');
  const candidates = cands.map((token): CompactCandidate => {
    const m = /^([hspr])([uapo])(\d{1,5}),([A-Za-z0-9.:-]{1,253})$/.exec(token);
    const p = Number(m?.[3]);
    if (!m || p < 1 || p > 65535) throw bad(`bad candidate ${JSON.stringify(token.slice(0, 80))}`);
    return { type: TYPE_OF[m[1]!]!, transport: TRANSPORT_OF[m[2]!]!, port: p, address: m[4]! };
  });
  return { type: type === 'o' ? 'offer' : 'answer', setup: SETUP_OF[setup]!, ufrag, pwd, fingerprint, mid, sctpPort: port, maxMessageSize: size, candidates };
}

/** A valid SDP (RFC 8866, JSEP RFC 9429) for a compact description, candidates included. */
export function expandDescription(c: CompactDescription): ManualDescription {
  const hex = [...c.fingerprint].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
  const sessionId = Array.from(c.fingerprint.slice(0, 6), (b) => b.toString().padStart(3, '0')).join('').replace(/^0+/, '') || '1';
  const lines = [
    'v=0',
    `o=- ${sessionId} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    `a=group:BUNDLE ${c.mid}`,
    'a=msid-semantic: WMS',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    'c=IN IP4 0.0.0.0',
    `a=mid:${c.mid}`,
    `a=ice-ufrag:${c.ufrag}`,
    `a=ice-pwd:${c.pwd}`,
    `a=fingerprint:sha-256 ${hex}`,
    `a=setup:${c.setup}`,
    `a=sctp-port:${c.sctpPort}`,
    `a=max-message-size:${c.maxMessageSize}`,
    ...c.candidates.map((x, i) => {
      // RFC 8445 §5.1.2.1: priority = 2^24·type preference + 2^8·local preference + (256 − component).
      const priority = TYPE_PREFERENCE[x.type] * 2 ** 24 + (65535 - i) * 2 ** 8 + 255;
      const proto = x.transport === 'udp' ? 'udp' : 'tcp';
      const tcptype = x.transport === 'udp' ? '' : ` tcptype ${x.transport.slice(4)}`;
      return `a=candidate:${i + 1} 1 ${proto} ${priority} ${x.address} ${x.port} typ ${x.type}${tcptype}`;
    }),
    'a=end-of-candidates',
  ];
  return { type: c.type, sdp: `${lines.join('\r\n')}\r\n` };
}

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream, limit: number): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  void writer.write(new Uint8Array(bytes)).catch(() => undefined);
  void writer.close().catch(() => undefined);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      void reader.cancel().catch(() => undefined);
      throw bad(`decodes to more than ${limit} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** Encodes a complete offer or answer (candidates in the SDP and/or in `candidates`) as a manual string. */
export async function encodeManual(description: ManualDescription, candidates: readonly string[] = []): Promise<string> {
  const compact = compactDescription(description, candidates);
  let mode: 'c' | 's';
  let text: string;
  if (compact) {
    mode = 'c';
    text = compactText(compact);
  } else {
    mode = 's';
    const extra = candidates.map((c) => `a=${c.replace(/^a=/, '')}`);
    text = JSON.stringify({ type: description.type, sdp: withCandidates(description.sdp, extra) });
  }
  const deflated = await pipe(new TextEncoder().encode(text), new CompressionStream('deflate-raw'), Number.MAX_SAFE_INTEGER);
  return `${MANUAL_PREFIX}${mode}${base64url(deflated)}`;
}

/** Decodes a manual string; throws `bad-manual-string` (SignalingError) with what is wrong. */
export async function decodeManual(input: string): Promise<ManualDescription> {
  const text = input.replace(/\s+/g, ''); // pasted strings pick up line breaks
  if (!text.startsWith(MANUAL_PREFIX)) throw bad(`not a Pinhole manual string (expected the prefix ${MANUAL_PREFIX})`);
  const mode = text[MANUAL_PREFIX.length];
  if (mode !== 'c' && mode !== 's') throw bad(`unknown manual string format ${JSON.stringify(mode ?? '')}`);
  let bytes: Uint8Array;
  try {
    bytes = fromBase64url(text.slice(MANUAL_PREFIX.length + 1), 'the manual string');
  } catch (err) {
    throw bad('the manual string is not base64url (truncated or mistyped?)', err);
  }
  let inflated: string;
  try {
    inflated = new TextDecoder('utf-8', { fatal: true }).decode(await pipe(bytes, new DecompressionStream('deflate-raw'), MAX_MANUAL_INFLATED_BYTES));
  } catch (err) {
    if (err instanceof SignalingError) throw err;
    throw bad('the manual string does not inflate (truncated or mistyped?)', err);
  }
  if (mode === 'c') return expandDescription(parseCompactText(inflated));
  let value: unknown;
  try {
    value = JSON.parse(inflated);
  } catch (err) {
    throw bad('the SDP form is not JSON', err);
  }
  const v = value as Partial<ManualDescription> | null;
  if (!v || (v.type !== 'offer' && v.type !== 'answer') || typeof v.sdp !== 'string' || !v.sdp.startsWith('v=0')) {
    throw bad('the SDP form is not {type, sdp}');
  }
  return { type: v.type, sdp: v.sdp };
}

/** Adds candidate lines (not already present) at the end of the first media section. */
function withCandidates(sdp: string, lines: readonly string[]): string {
  const missing = lines.filter((l) => !sdp.includes(l));
  if (missing.length === 0) return sdp;
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const parts = sdp.split(/^(?=m=)/m);
  if (parts.length < 2) return sdp;
  parts[1] = parts[1]!.replace(/(\r?\n)?$/, `${eol}${missing.join(eol)}${eol}`).replace(/(\r?\n)+$/, eol);
  return parts.join('');
}

/** An SDP's candidates as trickle signals' payloads, and the SDP without them. */
export interface SplitCandidates {
  /** Without `a=candidate` and `a=end-of-candidates` lines. */
  sdp: string;
  candidates: { candidate: string; sdpMid: string | null; sdpMLineIndex: number }[];
}

/** Takes the candidates out of an SDP (each with its media section's MID and index). */
export function splitCandidates(sdp: string): SplitCandidates {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const kept: string[] = [];
  const found: { candidate: string; section: number }[] = [];
  const mids: (string | null)[] = [];
  let section = -1;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) mids[++section] = null;
    if (section >= 0 && line.startsWith('a=mid:')) mids[section] = line.slice('a=mid:'.length);
    if (line.startsWith('a=candidate:')) found.push({ candidate: line.slice('a='.length), section: Math.max(section, 0) });
    else if (line !== 'a=end-of-candidates') kept.push(line);
  }
  const candidates = found.map(({ candidate, section: i }) => ({ candidate, sdpMid: mids[i] ?? null, sdpMLineIndex: i }));
  return { sdp: kept.join(eol), candidates };
}
