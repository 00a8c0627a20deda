/**
 * Sealed signaling (docs/protocol/rendezvous.md §14.5): a Signaler wrapper that encrypts every
 * signal and broadcast payload, and the join meta, with AES-256-GCM under a key derived
 * from a room passphrase (PBKDF2-SHA-256), so the broker or hub in the middle carries
 * SDPs, candidates and names it cannot read or alter. WebCrypto only: browsers and Node 20.
 *
 * A payload that does not open (wrong passphrase, tampered, not sealed) is dropped and
 * reported as an `error` event; a member whose meta does not open is not announced, so
 * peers without the passphrase never start a connection with us.
 */
import type { Json, PeerInfo, PeerMeta } from '@pinhole/protocol';
import { Emitter } from '../emitter.js';
import type { Signaler, SignalerEvents, SignalerState } from './signaler.js';
import { SignalingError } from './errors.js';
import { base64url, fromBase64url } from './broker-wire.js';
import { SEAL_PBKDF2_ITERATIONS, SEAL_SALT_PREFIX } from '../defaults.js';

export const SEALED_VERSION = 1;

/** A sealed payload on the wire (base64url, RFC 4648 §5, no padding). */
export interface SealedPayload {
  [key: string]: Json;
  sealed: 1;
  /** 12 random bytes. */
  iv: string;
  /** AES-GCM ciphertext of the JSON text, with its 16-byte tag. */
  ct: string;
}

export interface SealedSignalerOptions {
  /** The room passphrase every peer of the room shares. */
  passphrase: string;
}

export interface SealedSignalerEvents extends SignalerEvents {
  /** `decrypt-failed`, `not-sealed` or `bad-payload` for a payload that did not open (dropped); the inner signaler's errors. */
  error: Error;
}

const utf8 = new TextEncoder();

export class SealedSignaler extends Emitter<SealedSignalerEvents> implements Signaler {
  readonly inner: Signaler;
  readonly #passphrase: string;
  readonly #keys = new Map<string, Promise<CryptoKey>>();
  /** Members whose meta opened, per joined room. */
  readonly #members = new Map<string, Set<string>>();
  /** Encryption and decryption are async: these keep messages in order each way. */
  #outbound: Promise<void> = Promise.resolve();
  #inbound: Promise<void> = Promise.resolve();

  constructor(inner: Signaler, options: SealedSignalerOptions) {
    super();
    if (options.passphrase.length === 0) throw new SignalingError('unsupported', 'a sealed signaler needs a non-empty passphrase');
    this.inner = inner;
    this.#passphrase = options.passphrase;
    inner.on('state', (s) => this.emit('state', s));
    inner.on('error', (e) => this.emit('error', e));
    inner.on('peer-joined', ({ room, peer }) =>
      this.#in(async () => {
        const opened = await this.#openMember(room, peer);
        if (opened) this.emit('peer-joined', { room, peer: opened });
      }),
    );
    inner.on('peer-left', (e) => this.#in(async () => this.#members.get(e.room)?.delete(e.peer) && this.emit('peer-left', e)));
    inner.on('rejoined', ({ room, peers }) => this.#in(async () => this.#members.has(room) && this.emit('rejoined', { room, peers: await this.#openMembers(room, peers) })));
    inner.on('signal', (e) => this.#in(async () => this.#openData('signal', e.room, e.from, e.data, (room, data) => this.emit('signal', { room, from: e.from, data }))));
    inner.on('broadcast', (e) => this.#in(async () => this.#openData('broadcast', e.room, e.from, e.data, (room, data) => this.emit('broadcast', { room, from: e.from, data }))));
  }

  get kind(): string {
    return this.inner.kind;
  }

  get oneShot(): boolean {
    return this.inner.oneShot === true;
  }

  /** The inner carrier plus `+sealed` (e.g. 'mqtt+sealed'), so reports show it. */
  get transport(): string {
    return `${this.inner.transport}+sealed`;
  }

  get localId(): string {
    return this.inner.localId;
  }

  get state(): SignalerState {
    return this.inner.state;
  }

  async join(room: string, meta: PeerMeta = {}): Promise<PeerInfo[]> {
    const sealedMeta = await this.#seal(room, `meta ${room} ${this.localId}`, meta);
    this.#members.set(room, new Set());
    try {
      const peers = await this.inner.join(room, sealedMeta);
      // Through the inbound queue, so events that came after the join result stay after it.
      return await this.#in(() => this.#openMembers(room, peers));
    } catch (err) {
      this.#members.delete(room);
      throw err;
    }
  }

  async leave(room: string): Promise<void> {
    this.#members.delete(room);
    await this.inner.leave(room);
  }

  signal(to: string, data: Json, room?: string): void {
    // The key depends on the room: a room-less signal goes through a room we share with `to`.
    const via = room ?? [...this.#members].find(([, m]) => m.has(to))?.[0];
    if (via === undefined || !this.#members.has(via)) {
      this.emit('error', new SignalingError('unsupported', `cannot signal ${to}: no room shared with it${room === undefined ? '' : ` ('${room}' not joined)`}`));
      return;
    }
    const from = this.localId;
    this.#out(async () => this.inner.signal(to, await this.#seal(via, `signal ${via} ${from} ${to}`, data), via));
  }

  broadcast(room: string, data: Json): void {
    const from = this.localId;
    this.#out(async () => this.inner.broadcast(room, await this.#seal(room, `broadcast ${room} ${from}`, data)));
  }

  async close(): Promise<void> {
    await this.#outbound;
    this.#members.clear();
    await this.inner.close();
  }

  #out(work: () => Promise<void>): void {
    this.#outbound = this.#outbound.then(work).catch((err: unknown) => this.emit('error', err instanceof Error ? err : new SignalingError('unsupported', String(err), { cause: err })));
  }

  #in<T>(work: () => Promise<T>): Promise<T> {
    const done = this.#inbound.then(work);
    this.#inbound = done.then(
      () => undefined,
      () => undefined,
    );
    return done;
  }

  #key(room: string): Promise<CryptoKey> {
    let key = this.#keys.get(room);
    if (!key) {
      key = (async () => {
        const base = await crypto.subtle.importKey('raw', utf8.encode(this.#passphrase), 'PBKDF2', false, ['deriveKey']);
        const salt = utf8.encode(SEAL_SALT_PREFIX + room);
        return crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: SEAL_PBKDF2_ITERATIONS }, base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
      })();
      this.#keys.set(room, key);
    }
    return key;
  }

  /** `context` is the additional authenticated data: a payload cannot be moved to another room, kind, sender or recipient. */
  async #seal(room: string, context: string, value: Json): Promise<SealedPayload> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: utf8.encode(context) }, await this.#key(room), utf8.encode(JSON.stringify(value)));
    return { sealed: SEALED_VERSION, iv: base64url(iv), ct: base64url(new Uint8Array(ct)) };
  }

  /** Opens a sealed payload; throws a SignalingError saying why it does not open. */
  async #open(room: string, context: string, value: unknown): Promise<Json> {
    if (typeof value !== 'object' || value === null || !('sealed' in value)) throw new SignalingError('not-sealed', `${context}: not a sealed payload (a peer without the passphrase?)`);
    const v = value as Record<string, unknown>;
    if (v.sealed !== SEALED_VERSION) throw new SignalingError('bad-payload', `${context}: unsupported sealed version ${JSON.stringify(v.sealed)}`);
    if (typeof v.iv !== 'string' || typeof v.ct !== 'string') throw new SignalingError('bad-payload', `${context}: "iv" and "ct" must be strings`);
    // fromBase64url's arrays are over plain ArrayBuffers; WebCrypto's types want that said.
    const iv = fromBase64url(v.iv, `${context}: "iv"`) as Uint8Array<ArrayBuffer>;
    const ct = fromBase64url(v.ct, `${context}: "ct"`) as Uint8Array<ArrayBuffer>;
    if (iv.byteLength !== 12 || ct.byteLength < 16) throw new SignalingError('bad-payload', `${context}: "iv" must be 12 bytes and "ct" at least 16`);
    let plain: ArrayBuffer;
    try {
      plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: utf8.encode(context) }, await this.#key(room), ct);
    } catch (err) {
      throw new SignalingError('decrypt-failed', `${context}: does not decrypt (wrong passphrase or tampered)`, { cause: err });
    }
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plain)) as Json;
    } catch {
      throw new SignalingError('bad-payload', `${context}: decrypted to something that is not UTF-8 JSON`);
    }
  }

  /** A member with its meta opened, or undefined (reported) when it does not open. */
  async #openMember(room: string, peer: PeerInfo): Promise<PeerInfo | undefined> {
    const members = this.#members.get(room);
    if (!members) return undefined;
    try {
      const meta = await this.#open(room, `meta ${room} ${peer.peer}`, peer.meta);
      if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new SignalingError('bad-payload', `meta of ${peer.peer} is not a JSON object`);
      members.add(peer.peer);
      return { peer: peer.peer, meta };
    } catch (err) {
      this.emit('error', err as Error);
      return undefined;
    }
  }

  async #openMembers(room: string, peers: PeerInfo[]): Promise<PeerInfo[]> {
    this.#members.get(room)?.clear();
    const opened: PeerInfo[] = [];
    for (const p of peers) {
      const m = await this.#openMember(room, p);
      if (m) opened.push(m);
    }
    return opened;
  }

  /** Opens a signal or broadcast; a room-less one (hub) is tried with each joined room's key. */
  async #openData(kind: 'signal' | 'broadcast', room: string | undefined, from: string, data: Json, deliver: (room: string, data: Json) => void): Promise<void> {
    const rooms = room === undefined ? [...this.#members.keys()] : this.#members.has(room) ? [room] : [];
    let failure: unknown;
    for (const r of rooms) {
      const context = kind === 'signal' ? `signal ${r} ${from} ${this.localId}` : `broadcast ${r} ${from}`;
      try {
        deliver(r, await this.#open(r, context, data));
        return;
      } catch (err) {
        failure ??= err;
        if (!(err instanceof SignalingError) || err.code !== 'decrypt-failed') break; // malformed: no other key helps
      }
    }
    if (failure) this.emit('error', failure as Error);
  }
}
