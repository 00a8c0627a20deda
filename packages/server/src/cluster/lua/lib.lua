-- The cluster script, part 1 of 3: its limits and shared functions. script-source.ts loads
-- lib.lua, apply.lua and ops.lua as ONE script (Redis runs it, luacheck lints it, in that
-- order), so the later parts use these locals. Keys and channels: script.ts.
--
-- Every call passes the prefix and the limits first (script.ts limitArgs, in this order),
-- then the operation and its arguments: the script text is the same for every hub
-- configuration, and one SHA serves every node.
local P = ARGV[1]
local MAXF, MAXB = tonumber(ARGV[2]), tonumber(ARGV[3])
-- RATE 0: unlimited.
local RATE, BURST = tonumber(ARGV[4]), tonumber(ARGV[5])
local MAXROOMS, MAXPEERS = tonumber(ARGV[6]), tonumber(ARGV[7])
local RESTTTL, TOMBMS = tonumber(ARGV[8]), tonumber(ARGV[9])
local MAXSTRINGIDS, MAXIDSABOVE = tonumber(ARGV[10]), tonumber(ARGV[11])
-- The operation (A[1]) and its arguments (A[2]…).
local A = { unpack(ARGV, 12) }
local overflowed = 0
-- The code of the error frame this call sent its caller, if any: the calling node counts it
-- (pinhole_errors_total), as hub.ts Hub.sendError does.
local errorCode = ''

local function fmt(n) return string.format('%d', n) end
local function skey(sid) return P .. 's:' .. sid end
local function sidOf(peer) return redis.call('GET', P .. 'p:' .. peer) end
local function str(s) return cjson.encode(s) end

-- Numbers, queues and announces a frame to a session (docs/protocol/hub.md §4.1-4.2). Over the
-- replay bounds the session ends. Twin: session.ts Session.push + hub.ts Hub.deliver.
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
  redis.call('RPUSH', P .. 'q:' .. sid, text)
  if st[4] == '' then
    redis.call('HSET', sk, 'seq', fmt(seq), 'bytes', fmt(bytes))
    return
  end
  redis.call('HSET', sk, 'seq', fmt(seq), 'bytes', fmt(bytes), 'sent', fmt(seq))
  redis.call('PUBLISH', P .. 'node:' .. st[4], 'f ' .. sid .. ' ' .. fmt(seq) .. ' ' .. text)
end

-- A sequenced error frame. Twin: hub.ts Hub.sendError.
local function pushError(sid, code, message, ref, frame)
  errorCode = code
  local body = '{"code":"' .. code .. '","message":' .. str(message)
  if ref then body = body .. ',"ref":' .. ref end
  if frame and frame ~= '' then body = body .. ',"frame":"' .. frame .. '"' end
  push(sid, 'error', body .. '}')
end

-- Cumulative ack: drops frames with seq <= upTo from the replay buffer. An ack beyond the
-- frames sent to a node (`sent`) is clamped: it cannot drop frames still to be delivered.
-- Twin: session.ts Session.ack.
local function ack(sk, sid, upTo)
  local st = redis.call('HMGET', sk, 'seq', 'acked', 'sent')
  local seq, acked = tonumber(st[1]), tonumber(st[2])
  local sent = tonumber(st[3]) or seq
  if upTo > sent then upTo = sent end
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

-- Records a client frame id; false for a retry (docs/protocol/hub.md §4.5). Remembers the last
-- MAXSTRINGIDS string ids and MAXIDSABOVE integer ids above lastId. Twin: session.ts Session.firstSight.
local function firstSight(sk, sid, kind, id)
  if kind == 's' then
    local z = P .. 'si:' .. sid
    if redis.call('ZSCORE', z, id) then return false end
    redis.call('ZADD', z, redis.call('HINCRBY', sk, 'sic', 1), id)
    if redis.call('ZCARD', z) > MAXSTRINGIDS then redis.call('ZPOPMIN', z) end
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
    if redis.call('ZCARD', ia) > MAXIDSABOVE then
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

-- Token bucket per session (rate 0: unlimited). Twin: ratelimit.ts TokenBucket.take.
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

-- A room's presence as JSON, without `except`; service members carry `service`.
-- Twin: rooms.ts MemoryRoomStore.members.
local function peersJson(rk, rvk, except)
  local all = redis.call('HGETALL', rk)
  local services = {}
  local sv = redis.call('HGETALL', rvk)
  for i = 1, #sv, 2 do services[sv[i]] = sv[i + 1] end
  local out = {}
  for i = 1, #all, 2 do
    if all[i] ~= except then
      local tail = '}'
      if services[all[i]] then tail = ',"service":"' .. services[all[i]] .. '"}' end
      out[#out + 1] = '{"peer":"' .. all[i] .. '","meta":' .. all[i + 1] .. tail
    end
  end
  return '[' .. table.concat(out, ',') .. ']'
end

-- Members of a room that are not services. Twin: hub.ts (its `service === undefined` tests).
local function participants(room)
  return redis.call('HLEN', P .. 'r:' .. room) - redis.call('HLEN', P .. 'rv:' .. room)
end

-- A room got its first member other than services, or lost its last: watchers are told.
-- Twin: hub.ts Hub.#roomEvent.
local function roomEvent(ftype, room)
  if ftype == 'room-opened' then redis.call('SADD', P .. 'open', room) else redis.call('SREM', P .. 'open', room) end
  local watchers = redis.call('SMEMBERS', P .. 'w')
  for i = 1, #watchers do push(watchers[i], ftype, '{"room":"' .. room .. '"}') end
end

-- Removes a peer from a room's presence; the rest get peer-left. Twin: hub.ts Hub.#leaveRoom.
local function leaveRoom(peer, room, reason)
  local rk = P .. 'r:' .. room
  if redis.call('HDEL', rk, peer) == 0 then return end
  local service = redis.call('HDEL', P .. 'rv:' .. room, peer) == 1
  local body = '{"room":"' .. room .. '","peer":"' .. peer .. '","reason":"' .. reason .. '"}'
  local members = redis.call('HKEYS', rk)
  for i = 1, #members do push(sidOf(members[i]), 'peer-left', body) end
  if not service and participants(room) == 0 then roomEvent('room-closed', room) end
end

-- Ends a session: it leaves its rooms (room-mates get peer-left) and cannot be resumed.
-- Twin: hub.ts Hub.end.
local function endSession(sid, reason)
  local sk = skey(sid)
  local st = redis.call('HMGET', sk, 'peer', 'node', 'key')
  if not st[1] then return end
  local peer = st[1]
  redis.call('HSET', sk, 'over', '1')
  -- Its client's next poll or stream is told `overflow`, not `session-unknown` (§4.2).
  if reason == 'overflow' then redis.call('SET', P .. 't:' .. sid, st[3], 'PX', TOMBMS) end
  local rs = P .. 'rs:' .. sid
  local rooms = redis.call('SMEMBERS', rs)
  local peerReason = reason
  if reason == 'overflow' then peerReason = 'closed' end
  for i = 1, #rooms do leaveRoom(peer, rooms[i], peerReason) end
  redis.call('DEL', sk, P .. 'q:' .. sid, P .. 'ia:' .. sid, P .. 'si:' .. sid, rs, P .. 'p:' .. peer)
  redis.call('ZREM', P .. 'det', sid)
  redis.call('SREM', P .. 'all', sid)
  redis.call('SREM', P .. 'w', sid)
  if st[2] and st[2] ~= '' then
    redis.call('SREM', P .. 'n:' .. st[2], sid)
    redis.call('PUBLISH', P .. 'node:' .. st[2], 'e ' .. sid .. ' ' .. reason)
  end
end

local function inRoom(sid, room) return redis.call('SISMEMBER', P .. 'rs:' .. sid, room) == 1 end

-- Forgets a node: the sessions still on it are detached as of `at` (their grace runs from
-- then, so their clients can resume on another node). Returns how many it had. No twin:
-- one process has no other node.
local function detachNode(node, at)
  local sids = redis.call('SMEMBERS', P .. 'n:' .. node)
  for j = 1, #sids do
    local sk = skey(sids[j])
    if redis.call('HGET', sk, 'node') == node then
      redis.call('HSET', sk, 'node', '', 'conn', '', 'det', at)
      redis.call('ZADD', P .. 'det', at, sids[j])
    end
  end
  redis.call('DEL', P .. 'n:' .. node)
  redis.call('ZREM', P .. 'nodes', node)
  return #sids
end

-- The `ref` of an answer, as JSON: a frame id sent as kind ('' none, 'i', 's') and text.
local function refOf(kind, id)
  if kind == 'i' then return id end
  if kind == 's' then return str(id) end
  return nil
end

-- What a client frame's call returns: lastId, seq, flags, error code (cluster-hub.ts FrameResult).
local function result(sk, flags)
  local st = redis.call('HMGET', sk, 'lastId', 'seq')
  if overflowed == 1 then flags = flags .. 'o' end
  return { tonumber(st[1]) or 0, tonumber(st[2]) or 0, flags, errorCode }
end
