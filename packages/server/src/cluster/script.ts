/**
 * The cluster's state machine, as one Redis Lua script (lua/*.lua, joined by
 * script-source.ts). Every change of shared state (a client frame, an attach, a sweep) is
 * one call, so it is atomic across nodes: seq numbers are assigned, frames queued and the
 * owning node woken up in one step, in seq order. Each Lua rule names its memory-core twin
 * (hub.ts, session.ts …) and each twin names it back.
 *
 * Keys (P = prefix):
 *   P s:<sid>   hash: key peer grant seq acked bytes sent lastId node conn det tok tokAt sic over
 *               (sent: the last seq handed to a node; acks are clamped to it)
 *   P q:<sid>   list: encoded frames acked+1 … seq (the replay buffer)
 *   P ia:<sid>  zset: integer client frame ids above lastId (score = id)
 *   P si:<sid>  zset: the last string ids (score = arrival counter `sic`)
 *   P rs:<sid>  set: the session's rooms
 *   P r:<room>  hash: peer → meta JSON (presence)
 *   P rv:<room> hash: peer → service kind, for the members of P r:<room> that are services
 *   P open      set: rooms with at least one member that is not a service
 *   P w         set: service sessions watching rooms (`watch-rooms`)
 *   P p:<peer>  string: the peer's session id
 *   P det       zset: detached sessions → detached-at ms (overflowed ones at 0)
 *   P all       set: every live session
 *   P n:<node>  set: sessions attached to the node
 *   P nodes     zset: node → last heartbeat ms
 *   P rest:<room>\n<id>   REST message ids already relayed (expiring)
 *   P t:<sid>   string: the key of a session that ended by overflow (expiring: a tombstone)
 * Channel P node:<node> carries, to the node holding a session's connection:
 *   `f <sid> <seq> <frame>` a sequenced frame; `l <sid> <frame>` a loose one (pong);
 *   `x <sid> <conn>` that connection was replaced; `e <sid> <reason>` the session ended.
 */

import { MAX_IDS_ABOVE, MAX_STRING_IDS } from '../session.js';

export { CLUSTER_SCRIPT } from './script-source.js';

/** What the script takes as its leading arguments (lua/lib.lua reads them). */
export interface ScriptLimits {
  prefix: string;
  maxReplayFrames: number;
  maxReplayBytes: number;
  /** 0 = unlimited. */
  ratePerSecond: number;
  rateBurst: number;
  maxRoomsPerSession: number;
  maxPeersPerRoom: number;
  restIdTtlSeconds: number;
  /** How long a tombstone of a session ended by overflow is kept. */
  tombstoneMs: number;
}

/**
 * The arguments every call of the script starts with, in the order lua/lib.lua reads them
 * (ARGV[1..11]); the operation and its arguments follow. Limits travel as arguments, not as
 * script text: the script (and its SHA) is the same whatever a node is configured with.
 * The id bounds are the memory core's (session.ts), so both cores forget ids alike.
 */
export function limitArgs(l: ScriptLimits): string[] {
  const rate = Number.isFinite(l.ratePerSecond) ? l.ratePerSecond : 0;
  const limits = [l.maxReplayFrames, l.maxReplayBytes, rate, l.rateBurst, l.maxRoomsPerSession, l.maxPeersPerRoom, l.restIdTtlSeconds, l.tombstoneMs, MAX_STRING_IDS, MAX_IDS_ABOVE];
  return [l.prefix, ...limits.map(String)];
}
