-- The cluster script, part 2 of 3: the rules of one client frame (after lib.lua).
-- One client frame after dedupe: the rate limit, then signal, broadcast, join, leave,
-- watch-rooms, ping, bye. Returns flags for the node. Twin: hub.ts Hub.#apply (and #signal, #broadcast, #join,
-- #leave, whose error texts these repeat word for word). Join's checks on the token and
-- meta size run in TypeScript before the call (cluster-hub.ts, the `preCode` argument).
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
        return pushError(sid, 'unknown-peer', 'peer "' .. to .. '" is not in room "' .. room .. '"', ref, ftype)
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
    return pushError(sid, 'unknown-peer', 'peer "' .. to .. '" shares no room with you', ref, ftype)
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
    local room, meta, preCode, preMsg, service = a[1], a[2], a[3], a[4], a[5]
    if preCode ~= '' then return pushError(sid, preCode, preMsg, ref, ftype) end
    local rk = P .. 'r:' .. room
    local rvk = P .. 'rv:' .. room
    local tail = '}'
    if ref then tail = ',"ref":' .. ref .. '}' end
    if inRoom(sid, room) then
      -- Already in: answer again (a retry after a lost reply), leaving presence as it is.
      push(sid, 'joined', '{"room":"' .. room .. '","peer":"' .. peer .. '","peers":' .. peersJson(rk, rvk, peer) .. tail)
      return ''
    end
    if redis.call('SCARD', P .. 'rs:' .. sid) >= MAXROOMS then
      return pushError(sid, 'too-many-rooms', 'a session may be in at most ' .. MAXROOMS .. ' rooms', ref, ftype)
    end
    if redis.call('HLEN', rk) >= MAXPEERS then
      return pushError(sid, 'room-full', 'room "' .. room .. '" already has ' .. MAXPEERS .. ' peers', ref, ftype)
    end
    local others = peersJson(rk, rvk, peer)
    redis.call('HSET', rk, peer, meta)
    if service ~= '' then redis.call('HSET', rvk, peer, service) end
    redis.call('SADD', P .. 'rs:' .. sid, room)
    push(sid, 'joined', '{"room":"' .. room .. '","peer":"' .. peer .. '","peers":' .. others .. tail)
    local body = '{"room":"' .. room .. '","peer":"' .. peer .. '","meta":' .. meta .. '}'
    if service ~= '' then body = '{"room":"' .. room .. '","peer":"' .. peer .. '","meta":' .. meta .. ',"service":"' .. service .. '"}' end
    local members = redis.call('HKEYS', rk)
    for i = 1, #members do
      if members[i] ~= peer then push(sidOf(members[i]), 'peer-joined', body) end
    end
    if service == '' and participants(room) == 1 then roomEvent('room-opened', room) end
  elseif ftype == 'leave' then
    local room = a[1]
    if not inRoom(sid, room) then return pushError(sid, 'not-in-room', 'you are not in room "' .. room .. '"', ref, ftype) end
    redis.call('SREM', P .. 'rs:' .. sid, room)
    leaveRoom(peer, room, 'leave')
    local body = '{"room":"' .. room .. '"}'
    if ref then body = '{"room":"' .. room .. '","ref":' .. ref .. '}' end
    push(sid, 'left', body)
  elseif ftype == 'watch-rooms' then
    if a[1] ~= '1' then return pushError(sid, 'forbidden', 'only a service may watch rooms', ref, ftype) end
    redis.call('SADD', P .. 'w', sid)
    local open = redis.call('SMEMBERS', P .. 'open')
    local body = '{"rooms":' .. (#open == 0 and '[]' or cjson.encode(open))
    if ref then body = body .. ',"ref":' .. ref end
    push(sid, 'watching', body .. '}')
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
