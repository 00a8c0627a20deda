/**
 * The cluster's state machine, as one Redis Lua script. Every change of shared state (a
 * client frame, an attach, a sweep) is one call, so it is atomic across nodes: seq numbers
 * are assigned, frames queued and the owning node woken up in one step, in seq order.
 *
 * Keys (P = prefix):
 *   P s:<sid>   hash: key peer grant seq acked bytes sent lastId node conn det tok tokAt sic over
 *               (sent: the last seq handed to a node; acks are clamped to it)
 *   P q:<sid>   list: encoded frames acked+1 … seq (the replay buffer)
 *   P ia:<sid>  zset: integer client frame ids above lastId (score = id)
 *   P si:<sid>  zset: the last string ids (score = arrival counter `sic`)
 *   P rs:<sid>  set: the session's rooms
 *   P r:<room>  hash: peer → meta JSON (presence)
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

import { LUA_LIB } from './script-lib.js';
import { LUA_OPS } from './script-ops.js';

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

const lua = (s: string): string => JSON.stringify(s); // a Lua string literal (JSON escapes are valid Lua)

export function clusterScript(l: ScriptLimits): string {
  const rate = Number.isFinite(l.ratePerSecond) ? l.ratePerSecond : 0;
  return `
local P = ${lua(l.prefix)}
local MAXF, MAXB, RATE, BURST = ${l.maxReplayFrames}, ${l.maxReplayBytes}, ${rate}, ${l.rateBurst}
local MAXROOMS, MAXPEERS, RESTTTL, TOMBMS = ${l.maxRoomsPerSession}, ${l.maxPeersPerRoom}, ${l.restIdTtlSeconds}, ${l.tombstoneMs}
${LUA_LIB}${LUA_OPS}`;
}
