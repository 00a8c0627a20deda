/**
 * The cluster's state machine, as one Redis Lua script. Every change of shared state (a
 * client frame, an attach, a sweep) is one call, so it is atomic across nodes: seq numbers
 * are assigned, frames queued and the owning node woken up in one step, in seq order.
 *
 * Keys (P = prefix):
 *   P s:<sid>   hash: key peer grant seq acked bytes lastId node conn det tok tokAt sic over
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
 * Channel P node:<node> carries, to the node holding a session's connection:
 *   `f <sid> <seq> <frame>` a sequenced frame; `l <sid> <frame>` a loose one (pong);
 *   `x <sid> <conn>` that connection was replaced; `e <sid> <reason>` the session ended.
 */

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
}

const lua = (s: string): string => JSON.stringify(s); // a Lua string literal (JSON escapes are valid Lua)

export function clusterScript(l: ScriptLimits): string {
  const rate = Number.isFinite(l.ratePerSecond) ? l.ratePerSecond : 0;
  return `
local P = ${lua(l.prefix)}
local MAXF, MAXB, RATE, BURST = ${l.maxReplayFrames}, ${l.maxReplayBytes}, ${rate}, ${l.rateBurst}
local MAXROOMS, MAXPEERS, RESTTTL = ${l.maxRoomsPerSession}, ${l.maxPeersPerRoom}, ${l.restIdTtlSeconds}
local overflowed = 0

local function fmt(n) return string.format('%d', n) end
local function skey(sid) return P .. 's:' .. sid end
local function sidOf(peer) return redis.call('GET', P .. 'p:' .. peer) end
local function str(s) return cjson.encode(s) end

-- Numbers, queues and announces a frame to a session (docs/protocol.md §4.1-4.2).
local function push(sid, ftype, body)
  if not sid then return end
  local sk = skey(sid)
  local st = redis.call('HMGET', sk, 'seq', 'acked', 'bytes', 'node', 'over')
  if not st[1] or st[5] == '1' then return end
  local seq = tonumber(st[1]) + 1
  local text = '{"type":"' .. ftype .. '","seq":' .. fmt(seq)
  if body == '{}' then text = text .. '}' else text = text .. ',' .. string.sub(body, 2) end
  local bytes = tonumber(st[3]) + #text
  if seq - tonumber(st[2]) > MAXF or bytes > MAXB then
    -- Over the replay bounds: the session ends (any node's sweep ends it at once).
    redis.call('HSET', sk, 'over', '1')
    redis.call('ZADD', P .. 'det', 0, sid)
    overflowed = 1
    return
  end
  redis.call('HSET', sk, 'seq', fmt(seq), 'bytes', fmt(bytes))
  redis.call('RPUSH', P .. 'q:' .. sid, text)
  if st[4] ~= '' then redis.call('PUBLISH', P .. 'node:' .. st[4], 'f ' .. sid .. ' ' .. fmt(seq) .. ' ' .. text) end
end

local function pushError(sid, code, message, ref, frame)
  local body = '{"code":"' .. code .. '","message":' .. str(message)
  if ref then body = body .. ',"ref":' .. ref end
  if frame and frame ~= '' then body = body .. ',"frame":"' .. frame .. '"' end
  push(sid, 'error', body .. '}')
end

-- Cumulative ack: drops frames with seq <= upTo from the replay buffer.
local function ack(sk, sid, upTo)
  local st = redis.call('HMGET', sk, 'seq', 'acked')
  local seq, acked = tonumber(st[1]), tonumber(st[2])
  if upTo > seq then upTo = seq end
  local n = upTo - acked
  if n <= 0 then return end
  local q = P .. 'q:' .. sid
  local gone = redis.call('LRANGE', q, 0, n - 1)
  local b = 0
  for i = 1, #gone do b = b + #gone[i] end
  redis.call('LTRIM', q, n, -1)
  redis.call('HSET', sk, 'acked', fmt(upTo))
  redis.call('HINCRBY', sk, 'bytes', -b)
end

-- Records a client frame id; false for a retry (docs/protocol.md §4.5).
local function firstSight(sk, sid, kind, id)
  if kind == 's' then
    local z = P .. 'si:' .. sid
    if redis.call('ZSCORE', z, id) then return false end
    redis.call('ZADD', z, redis.call('HINCRBY', sk, 'sic', 1), id)
    if redis.call('ZCARD', z) > 1024 then redis.call('ZPOPMIN', z) end
    return true
  end
  local n = tonumber(id)
  local last = tonumber(redis.call('HGET', sk, 'lastId'))
  local ia = P .. 'ia:' .. sid
  if n <= last then return false end
  if n == last + 1 then
    last = n
  else
    if redis.call('ZSCORE', ia, id) then return false end
    redis.call('ZADD', ia, n, id)
    if redis.call('ZCARD', ia) > 4096 then
      -- The client skipped ids: close the gap rather than remember without bound.
      last = tonumber(redis.call('ZPOPMIN', ia)[2])
    end
  end
  if redis.call('EXISTS', ia) == 1 then
    while redis.call('ZREM', ia, fmt(last + 1)) == 1 do last = last + 1 end
  end
  redis.call('HSET', sk, 'lastId', fmt(last))
  return true
end

-- Token bucket per session (rate 0: unlimited).
local function take(sk, now)
  if RATE == 0 then return true end
  local st = redis.call('HMGET', sk, 'tok', 'tokAt')
  local tokens, at = tonumber(st[1]), tonumber(st[2])
  if now > at then
    tokens = math.min(BURST, tokens + (now - at) * RATE / 1000)
    at = now
  end
  if tokens < 1 then
    redis.call('HSET', sk, 'tok', tostring(tokens), 'tokAt', fmt(at))
    return false
  end
  redis.call('HSET', sk, 'tok', tostring(tokens - 1), 'tokAt', fmt(at))
  return true
end

local function peersJson(rk, except)
  local all = redis.call('HGETALL', rk)
  local out = {}
  for i = 1, #all, 2 do
    if all[i] ~= except then out[#out + 1] = '{"peer":"' .. all[i] .. '","meta":' .. all[i + 1] .. '}' end
  end
  return '[' .. table.concat(out, ',') .. ']'
end

local function leaveRoom(peer, room, reason)
  local rk = P .. 'r:' .. room
  if redis.call('HDEL', rk, peer) == 0 then return end
  local body = '{"room":"' .. room .. '","peer":"' .. peer .. '","reason":"' .. reason .. '"}'
  local members = redis.call('HKEYS', rk)
  for i = 1, #members do push(sidOf(members[i]), 'peer-left', body) end
end

-- Ends a session: it leaves its rooms (room-mates get peer-left) and cannot be resumed.
local function endSession(sid, reason)
  local sk = skey(sid)
  local st = redis.call('HMGET', sk, 'peer', 'node')
  if not st[1] then return end
  local peer = st[1]
  redis.call('HSET', sk, 'over', '1')
  local rs = P .. 'rs:' .. sid
  local rooms = redis.call('SMEMBERS', rs)
  local peerReason = reason
  if reason == 'overflow' then peerReason = 'closed' end
  for i = 1, #rooms do leaveRoom(peer, rooms[i], peerReason) end
  redis.call('DEL', sk, P .. 'q:' .. sid, P .. 'ia:' .. sid, P .. 'si:' .. sid, rs, P .. 'p:' .. peer)
  redis.call('ZREM', P .. 'det', sid)
  redis.call('SREM', P .. 'all', sid)
  if st[2] and st[2] ~= '' then
    redis.call('SREM', P .. 'n:' .. st[2], sid)
    redis.call('PUBLISH', P .. 'node:' .. st[2], 'e ' .. sid .. ' ' .. reason)
  end
end

local function inRoom(sid, room) return redis.call('SISMEMBER', P .. 'rs:' .. sid, room) == 1 end

-- One client frame after dedupe and rate limit. Returns flags for the node.
local function apply(sid, sk, peer, now, ftype, ref, a)
  if not take(sk, now) then
    pushError(sid, 'rate-limited', 'more than ' .. tostring(RATE) .. ' frames/s; slow down and resend under a new id', ref, ftype)
    return ''
  end
  if ftype == 'signal' then
    local to, room, data = a[1], a[2], a[3]
    if room ~= '' then
      if not inRoom(sid, room) then return pushError(sid, 'not-in-room', 'you are not in room "' .. room .. '"', ref, ftype) end
      if redis.call('HEXISTS', P .. 'r:' .. room, to) == 0 then
        return pushError(sid, 'unknown-peer', 'peer ' .. str(to) .. ' is not in room "' .. room .. '"', ref, ftype)
      end
      push(sidOf(to), 'signal', '{"from":"' .. peer .. '","room":"' .. room .. '","data":' .. data .. '}')
      return ''
    end
    local rooms = redis.call('SMEMBERS', P .. 'rs:' .. sid)
    for i = 1, #rooms do
      if redis.call('HEXISTS', P .. 'r:' .. rooms[i], to) == 1 then
        push(sidOf(to), 'signal', '{"from":"' .. peer .. '","data":' .. data .. '}')
        return ''
      end
    end
    return pushError(sid, 'unknown-peer', 'peer ' .. str(to) .. ' shares no room with you', ref, ftype)
  elseif ftype == 'broadcast' then
    local room, data, canData = a[1], a[2], a[3]
    if not inRoom(sid, room) then return pushError(sid, 'not-in-room', 'you are not in room "' .. room .. '"', ref, ftype) end
    if canData ~= '1' then return pushError(sid, 'forbidden', 'your token does not allow sending data', ref, ftype) end
    local body = '{"from":"' .. peer .. '","room":"' .. room .. '","data":' .. data .. '}'
    local members = redis.call('HKEYS', P .. 'r:' .. room)
    for i = 1, #members do
      if members[i] ~= peer then push(sidOf(members[i]), 'broadcast', body) end
    end
  elseif ftype == 'join' then
    local room, meta, preCode, preMsg = a[1], a[2], a[3], a[4]
    if preCode ~= '' then return pushError(sid, preCode, preMsg, ref, ftype) end
    local rk = P .. 'r:' .. room
    local tail = '}'
    if ref then tail = ',"ref":' .. ref .. '}' end
    if inRoom(sid, room) then
      -- Already in: answer again (a retry after a lost reply), leaving presence as it is.
      push(sid, 'joined', '{"room":"' .. room .. '","peer":"' .. peer .. '","peers":' .. peersJson(rk, peer) .. tail)
      return ''
    end
    if redis.call('SCARD', P .. 'rs:' .. sid) >= MAXROOMS then
      return pushError(sid, 'too-many-rooms', 'a session may be in at most ' .. MAXROOMS .. ' rooms', ref, ftype)
    end
    if redis.call('HLEN', rk) >= MAXPEERS then
      return pushError(sid, 'room-full', 'room "' .. room .. '" already has ' .. MAXPEERS .. ' peers', ref, ftype)
    end
    local others = peersJson(rk, peer)
    redis.call('HSET', rk, peer, meta)
    redis.call('SADD', P .. 'rs:' .. sid, room)
    push(sid, 'joined', '{"room":"' .. room .. '","peer":"' .. peer .. '","peers":' .. others .. tail)
    local body = '{"room":"' .. room .. '","peer":"' .. peer .. '","meta":' .. meta .. '}'
    local members = redis.call('HKEYS', rk)
    for i = 1, #members do
      if members[i] ~= peer then push(sidOf(members[i]), 'peer-joined', body) end
    end
  elseif ftype == 'leave' then
    local room = a[1]
    if not inRoom(sid, room) then return pushError(sid, 'not-in-room', 'you are not in room "' .. room .. '"', ref, ftype) end
    redis.call('SREM', P .. 'rs:' .. sid, room)
    leaveRoom(peer, room, 'leave')
    local body = '{"room":"' .. room .. '"}'
    if ref then body = '{"room":"' .. room .. '","ref":' .. ref .. '}' end
    push(sid, 'left', body)
  elseif ftype == 'ping' then
    local st = redis.call('HMGET', sk, 'node', 'lastId')
    if st[1] ~= '' then
      local pong = '{"type":"pong"'
      if ref then pong = pong .. ',"ref":' .. ref end
      pong = pong .. ',"time":' .. fmt(now) .. ',"lastId":' .. st[2] .. '}'
      redis.call('PUBLISH', P .. 'node:' .. st[1], 'l ' .. sid .. ' ' .. pong)
    end
  elseif ftype == 'bye' then
    endSession(sid, 'leave')
    return 'b'
  end
  return ''
end

local function refOf(kind, id)
  if kind == 'i' then return id end
  if kind == 's' then return str(id) end
  return nil
end

local function result(sk, flags)
  local st = redis.call('HMGET', sk, 'lastId', 'seq')
  if overflowed == 1 then flags = flags .. 'o' end
  return { tonumber(st[1]) or 0, tonumber(st[2]) or 0, flags }
end

local op = ARGV[1]

if op == 'frame' then
  -- sid now ack kind id type args…
  local sid, now = ARGV[2], tonumber(ARGV[3])
  local sk = skey(sid)
  local st = redis.call('HMGET', sk, 'peer', 'over')
  if not st[1] or st[2] == '1' then return { 0, 0, 'g' } end
  local kind, id, ftype = ARGV[5], ARGV[6], ARGV[7]
  if ARGV[4] ~= '' then ack(sk, sid, tonumber(ARGV[4])) end
  if ftype == 'ack' then ack(sk, sid, tonumber(ARGV[8])) end
  local flags = ''
  if (kind == '' or firstSight(sk, sid, kind, id)) and ftype ~= 'ack' then
    flags = apply(sid, sk, st[1], now, ftype, refOf(kind, id), { ARGV[8], ARGV[9], ARGV[10], ARGV[11] }) or ''
  end
  return result(sk, flags)
elseif op == 'reject' then
  -- sid kind id code message frameType: a frame that failed decoding consumes its id.
  local sid = ARGV[2]
  local sk = skey(sid)
  local st = redis.call('HMGET', sk, 'peer', 'over')
  if not st[1] or st[2] == '1' then return { 0, 0, 'g' } end
  local kind, id = ARGV[3], ARGV[4]
  if kind == '' or firstSight(sk, sid, kind, id) then pushError(sid, ARGV[5], ARGV[6], refOf(kind, id), ARGV[7]) end
  return result(sk, '')
elseif op == 'create' then
  -- sid key peer grant now
  local sid, now = ARGV[2], ARGV[6]
  redis.call('HSET', skey(sid), 'key', ARGV[3], 'peer', ARGV[4], 'grant', ARGV[5], 'seq', '0', 'acked', '0', 'bytes', '0',
    'lastId', '0', 'node', '', 'conn', '', 'det', now, 'tok', tostring(BURST), 'tokAt', now, 'sic', '0', 'over', '0')
  redis.call('SET', P .. 'p:' .. ARGV[4], sid)
  redis.call('ZADD', P .. 'det', now, sid)
  redis.call('SADD', P .. 'all', sid)
  return 1
elseif op == 'info' then
  -- sid → key peer grant seq lastId rooms…
  local sid = ARGV[2]
  local st = redis.call('HMGET', skey(sid), 'key', 'peer', 'grant', 'seq', 'lastId', 'over')
  if not st[1] or st[6] == '1' then return {} end
  local out = { st[1], st[2], st[3], st[4], st[5] }
  local rooms = redis.call('SMEMBERS', P .. 'rs:' .. sid)
  for i = 1, #rooms do out[#out + 1] = rooms[i] end
  return out
elseif op == 'grant' then
  if redis.call('EXISTS', skey(ARGV[2])) == 1 then redis.call('HSET', skey(ARGV[2]), 'grant', ARGV[3]) end
  return 1
elseif op == 'attach' then
  -- sid node conn lastSeq → seq frames… | {-1} gone | {-2, seq} lastSeq ahead
  local sid, node, conn, lastSeq = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
  local sk = skey(sid)
  local st = redis.call('HMGET', sk, 'seq', 'node', 'conn', 'over')
  if not st[1] or st[4] == '1' then return { -1 } end
  local seq = tonumber(st[1])
  if lastSeq > seq then return { -2, seq } end
  ack(sk, sid, lastSeq)
  if st[2] ~= '' then
    redis.call('SREM', P .. 'n:' .. st[2], sid)
    if st[3] ~= conn then redis.call('PUBLISH', P .. 'node:' .. st[2], 'x ' .. sid .. ' ' .. st[3]) end
  end
  redis.call('HSET', sk, 'node', node, 'conn', conn, 'det', '')
  redis.call('ZREM', P .. 'det', sid)
  redis.call('SADD', P .. 'n:' .. node, sid)
  local out = { seq }
  local frames = redis.call('LRANGE', P .. 'q:' .. sid, 0, -1)
  for i = 1, #frames do out[#out + 1] = frames[i] end
  return out
elseif op == 'fetch' then
  -- sid after → seq frames with seq > after… | {-1}
  local sid, after = ARGV[2], tonumber(ARGV[3])
  local st = redis.call('HMGET', skey(sid), 'seq', 'acked', 'over')
  if not st[1] or st[3] == '1' then return { -1 } end
  local from = after - tonumber(st[2])
  if from < 0 then from = 0 end
  local out = { tonumber(st[1]) }
  local frames = redis.call('LRANGE', P .. 'q:' .. sid, from, -1)
  for i = 1, #frames do out[#out + 1] = frames[i] end
  return out
elseif op == 'detach' then
  -- sid conn now
  local sid, conn, now = ARGV[2], ARGV[3], ARGV[4]
  local sk = skey(sid)
  local st = redis.call('HMGET', sk, 'conn', 'node')
  if not st[1] or st[1] ~= conn then return 0 end
  redis.call('HSET', sk, 'node', '', 'conn', '', 'det', now)
  redis.call('ZADD', P .. 'det', now, sid)
  redis.call('SREM', P .. 'n:' .. st[2], sid)
  return 1
elseif op == 'sweep' then
  -- node now grace nodeTimeout → sessions, detached, nodes, ended, deadNodes, fresh
  local node, now, grace, timeout = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
  -- Not registered: a new node, or one declared dead (or a Redis that lost everything).
  local fresh = 0
  if not redis.call('ZSCORE', P .. 'nodes', node) then fresh = 1 end
  redis.call('ZADD', P .. 'nodes', now, node)
  local dead = redis.call('ZRANGEBYSCORE', P .. 'nodes', '-inf', now - timeout, 'WITHSCORES')
  for i = 1, #dead, 2 do
    -- A dead node's sessions are detached as of its last heartbeat: their grace runs from then.
    local d, beat = dead[i], dead[i + 1]
    local sids = redis.call('SMEMBERS', P .. 'n:' .. d)
    for j = 1, #sids do
      local sk = skey(sids[j])
      if redis.call('HGET', sk, 'node') == d then
        redis.call('HSET', sk, 'node', '', 'conn', '', 'det', beat)
        redis.call('ZADD', P .. 'det', beat, sids[j])
      end
    end
    redis.call('DEL', P .. 'n:' .. d)
    redis.call('ZREM', P .. 'nodes', d)
  end
  local expired = redis.call('ZRANGEBYSCORE', P .. 'det', '-inf', now - grace, 'LIMIT', 0, 500)
  for i = 1, #expired do
    local reason = 'timeout'
    if redis.call('HGET', skey(expired[i]), 'over') == '1' then reason = 'overflow' end
    endSession(expired[i], reason)
    redis.call('ZREM', P .. 'det', expired[i])
  end
  return { redis.call('SCARD', P .. 'all'), redis.call('ZCARD', P .. 'det'), redis.call('ZCARD', P .. 'nodes'), #expired, #dead / 2, fresh }
elseif op == 'leave-node' then
  -- node now: a node shutting down detaches its sessions; their clients resume elsewhere.
  local node, now = ARGV[2], ARGV[3]
  local sids = redis.call('SMEMBERS', P .. 'n:' .. node)
  for j = 1, #sids do
    local sk = skey(sids[j])
    if redis.call('HGET', sk, 'node') == node then
      redis.call('HSET', sk, 'node', '', 'conn', '', 'det', now)
      redis.call('ZADD', P .. 'det', now, sids[j])
    end
  end
  redis.call('DEL', P .. 'n:' .. node)
  redis.call('ZREM', P .. 'nodes', node)
  return #sids
elseif op == 'rest' then
  -- room to data id → delivered | -1 unknown peer | -2 duplicate id
  local room, to, data, id = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
  local rk = P .. 'r:' .. room
  if to ~= '' and redis.call('HEXISTS', rk, to) == 0 then return -1 end
  if id ~= '' and not redis.call('SET', P .. 'rest:' .. room .. '\\n' .. id, '1', 'NX', 'EX', RESTTTL) then return -2 end
  if to ~= '' then
    push(sidOf(to), 'signal', '{"from":"@server","room":"' .. room .. '","data":' .. data .. '}')
    return 1
  end
  local members = redis.call('HKEYS', rk)
  local body = '{"from":"@server","room":"' .. room .. '","data":' .. data .. '}'
  for i = 1, #members do push(sidOf(members[i]), 'broadcast', body) end
  return #members
elseif op == 'peers' then
  return redis.call('HGETALL', P .. 'r:' .. ARGV[2])
end
return redis.error_reply('unknown op ' .. tostring(op))
`;
}
