/**
 * The JSON messages the MQTT and Redis signalers exchange through a broker
 * (docs/protocol/rendezvous.md §14). Decoding validates everything: a malformed message becomes a
 * `bad-payload` SignalingError, never an exception in a broker callback.
 */
import type { Json, PeerMeta } from '@pinhole/protocol';
import { SignalingError } from './errors.js';
import { MAX_BROKER_PAYLOAD_BYTES } from '../defaults.js';

export const WIRE_VERSION = 1;

/** A member announcing itself in a room (and refreshing that announcement). */
export interface PresenceMessage {
  v: 1;
  peer: string;
  meta: PeerMeta;
}

/** A member gone: `leave` (it said so), `timeout` (presence expired), `vanished` (MQTT last will). */
export interface GoneMessage {
  v: 1;
  peer: string;
  left: string;
}

/** A signal to one peer, or a broadcast. `n` grows with every message the sender sends. */
export interface DataMessage {
  v: 1;
  from: string;
  n: number;
  data: Json;
}

/** A marker a signaler sends to itself to learn that earlier deliveries have arrived. */
export interface SyncMessage {
  v: 1;
  from: string;
  sync: string;
}

export type BrokerMessage = PresenceMessage | GoneMessage | DataMessage | SyncMessage;

const PEER_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function isPeerId(value: unknown): value is string {
  return typeof value === 'string' && PEER_ID.test(value);
}

/** 11 base64url characters (64 random bits), like the hub's peer ids. */
export function randomPeerId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return base64url(bytes).slice(0, 11);
}

export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Throws `bad-payload` unless `text` is base64url. */
export function fromBase64url(text: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new SignalingError('bad-payload', `${what} is not base64url`);
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** A room name as one topic level / key segment: '/', '+', '#', ':' and the like are percent-encoded. */
export function encodeRoom(room: string): string {
  if (room.length === 0) throw new SignalingError('bad-payload', 'a room name must not be empty');
  return encodeURIComponent(room);
}

export function decodeRoom(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export function encodeMessage(message: BrokerMessage): string {
  const text = JSON.stringify(message);
  if (new TextEncoder().encode(text).byteLength > MAX_BROKER_PAYLOAD_BYTES) {
    throw new SignalingError('bad-payload', `message larger than ${MAX_BROKER_PAYLOAD_BYTES} bytes`);
  }
  return text;
}

function bad(what: string, where: string): SignalingError {
  return new SignalingError('bad-payload', `${where}: ${what}`);
}

/** Parses and validates a broker payload; `where` names the topic/channel in errors. */
export function decodeMessage(payload: Uint8Array | string, where: string): BrokerMessage {
  const size = typeof payload === 'string' ? payload.length : payload.byteLength;
  if (size > MAX_BROKER_PAYLOAD_BYTES) throw bad(`payload of ${size} bytes is over ${MAX_BROKER_PAYLOAD_BYTES}`, where);
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw bad('not UTF-8 JSON', where);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not a JSON object', where);
  const m = value as Record<string, unknown>;
  if (m.v !== WIRE_VERSION) throw bad(`unsupported version ${JSON.stringify(m.v)} (expected ${WIRE_VERSION})`, where);
  if ('from' in m) {
    if (!isPeerId(m.from)) throw bad('"from" is not a peer id', where);
    if (typeof m.sync === 'string') return { v: 1, from: m.from, sync: m.sync };
    if (!Number.isSafeInteger(m.n) || (m.n as number) < 1) throw bad('"n" is not a positive integer', where);
    if (!('data' in m)) throw bad('"data" is missing', where);
    return { v: 1, from: m.from, n: m.n as number, data: m.data as Json };
  }
  if (!isPeerId(m.peer)) throw bad('"peer" is not a peer id', where);
  if (typeof m.left === 'string') return { v: 1, peer: m.peer, left: m.left };
  if (typeof m.meta !== 'object' || m.meta === null || Array.isArray(m.meta)) throw bad('"meta" is not a JSON object', where);
  return { v: 1, peer: m.peer, meta: m.meta as PeerMeta };
}
