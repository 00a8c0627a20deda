-- The cluster script, part 3 of 3: one operation per kind of call (A[1], see lib.lua), each
-- atomic in Redis. Callers: cluster-hub.ts and delivery.ts, through store.ts ClusterStore.run.
local op = A[1]

if op == 'frame' then
  -- sid now ack kind id type args…: a client frame. Twin: hub.ts Hub.#apply.
  local sid, now = A[2], tonumber(A[3])
  local sk = skey(sid)
  local st = redis.call('HMGET', sk, 'peer', 'over')
  if not st[1] or st[2] == '1' then return { 0, 0, 'g' } end
  local kind, id, ftype = A[5], A[6], A[7]
  if A[4] ~= '' then ack(sk, sid, tonumber(A[4])) end
  if ftype == 'ack' then ack(sk, sid, tonumber(A[8])) end
  local flags = ''
  if (kind == '' or firstSight(sk, sid, kind, id)) and ftype ~= 'ack' then
    flags = apply(sid, sk, st[1], now, ftype, refOf(kind, id), { A[8], A[9], A[10], A[11], A[12] }) or ''
  end
  return result(sk, flags)
elseif op == 'reject' then
  -- sid kind id code message frameType: a frame that failed decoding consumes its id.
  -- Twin: hub.ts Hub.#apply (its ProtocolError branch).
  local sid = A[2]
  local sk = skey(sid)
  local st = redis.call('HMGET', sk, 'peer', 'over')
  if not st[1] or st[2] == '1' then return { 0, 0, 'g' } end
  local kind, id = A[3], A[4]
  if kind == '' or firstSight(sk, sid, kind, id) then pushError(sid, A[5], A[6], refOf(kind, id), A[7]) end
  return result(sk, '')
elseif op == 'create' then
  -- sid key peer grant now: a new session, detached until attached. Twin: hub.ts Hub.hello + session.ts Session.
  local sid, now = A[2], A[6]
  redis.call('HSET', skey(sid), 'key', A[3], 'peer', A[4], 'grant', A[5], 'seq', '0', 'acked', '0', 'bytes', '0',
    'lastId', '0', 'node', '', 'conn', '', 'det', now, 'sent', '0', 'tok', tostring(BURST), 'tokAt', now, 'sic', '0', 'over', '0')
  redis.call('SET', P .. 'p:' .. A[4], sid)
  redis.call('ZADD', P .. 'det', now, sid)
  redis.call('SADD', P .. 'all', sid)
  return 1
elseif op == 'info' then
  -- sid → key peer grant seq lastId rooms… | {key} ended by overflow (a tombstone) | {} unknown.
  -- Twin: hub.ts Hub.authenticate (with tombstones.ts).
  local sid = A[2]
  local st = redis.call('HMGET', skey(sid), 'key', 'peer', 'grant', 'seq', 'lastId', 'over')
  if st[6] == '1' then return { st[1] } end
  if not st[1] then
    local tomb = redis.call('GET', P .. 't:' .. sid)
    if tomb then return { tomb } end
    return {}
  end
  local out = { st[1], st[2], st[3], st[4], st[5] }
  local rooms = redis.call('SMEMBERS', P .. 'rs:' .. sid)
  for i = 1, #rooms do out[#out + 1] = rooms[i] end
  return out
elseif op == 'grant' then
  if redis.call('EXISTS', skey(A[2])) == 1 then redis.call('HSET', skey(A[2]), 'grant', A[3]) end
  return 1
elseif op == 'attach' then
  -- sid node conn lastSeq → seq frames… | {-1} gone | {-2, seq} lastSeq ahead.
  -- Twin: session.ts Session.attach (the lastSeq check: session-rules.ts checkResume).
  local sid, node, conn, lastSeq = A[2], A[3], A[4], tonumber(A[5])
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
  redis.call('HSET', sk, 'node', node, 'conn', conn, 'det', '', 'sent', fmt(seq))
  redis.call('ZREM', P .. 'det', sid)
  redis.call('SADD', P .. 'n:' .. node, sid)
  local out = { seq }
  local frames = redis.call('LRANGE', P .. 'q:' .. sid, 0, -1)
  for i = 1, #frames do out[#out + 1] = frames[i] end
  return out
elseif op == 'fetch' then
  -- sid after → seq frames with seq > after… | {-1}. Twin: session.ts Session.framesAfter.
  local sid, after = A[2], tonumber(A[3])
  local st = redis.call('HMGET', skey(sid), 'seq', 'acked', 'over')
  if not st[1] or st[3] == '1' then return { -1 } end
  local from = after - tonumber(st[2])
  if from < 0 then from = 0 end
  local out = { tonumber(st[1]) }
  local frames = redis.call('LRANGE', P .. 'q:' .. sid, from, -1)
  for i = 1, #frames do out[#out + 1] = frames[i] end
  return out
elseif op == 'detach' then
  -- sid conn now. Twin: session.ts Session.detach.
  local sid, conn, now = A[2], A[3], A[4]
  local sk = skey(sid)
  local st = redis.call('HMGET', sk, 'conn', 'node')
  if not st[1] or st[1] ~= conn then return 0 end
  redis.call('HSET', sk, 'node', '', 'conn', '', 'det', now)
  redis.call('ZADD', P .. 'det', now, sid)
  redis.call('SREM', P .. 'n:' .. st[2], sid)
  return 1
elseif op == 'sweep' then
  -- node now grace nodeTimeout → sessions, detached, nodes, ended, deadNodes, fresh.
  -- Twin: hub.ts Hub.sweep (plus the node heartbeats, which one process does not need).
  local node, now, grace, timeout = A[2], tonumber(A[3]), tonumber(A[4]), tonumber(A[5])
  -- Not registered: a new node, or one declared dead (or a Redis that lost everything).
  local fresh = 0
  if not redis.call('ZSCORE', P .. 'nodes', node) then fresh = 1 end
  redis.call('ZADD', P .. 'nodes', now, node)
  local dead = redis.call('ZRANGEBYSCORE', P .. 'nodes', '-inf', now - timeout, 'WITHSCORES')
  for i = 1, #dead, 2 do
    -- A dead node's sessions are detached as of its last heartbeat: their grace runs from then.
    detachNode(dead[i], dead[i + 1])
  end
  local expired = redis.call('ZRANGEBYSCORE', P .. 'det', '-inf', now - grace, 'LIMIT', 0, 500)
  for i = 1, #expired do
    local reason = 'timeout'
    if redis.call('HGET', skey(expired[i]), 'over') == '1' then reason = 'overflow' end
    endSession(expired[i], reason)
    redis.call('ZREM', P .. 'det', expired[i])
  end
  return { redis.call('SCARD', P .. 'all'), redis.call('ZCARD', P .. 'det'), redis.call('ZCARD', P .. 'nodes'), #expired, #dead / 2, fresh }
elseif op == 'overflow' then
  -- sid: a node found the connection's client not reading (its write buffer over the bound).
  -- Twin: hub.ts Hub.overflow.
  endSession(A[2], 'overflow')
  return 1
elseif op == 'leave-node' then
  -- node now: a node shutting down detaches its sessions; their clients resume elsewhere.
  return detachNode(A[2], A[3])
elseif op == 'rest' then
  -- room to data id → delivered | -1 unknown peer | -2 duplicate id. Twin: hub.ts Hub.relay.
  local room, to, data, id = A[2], A[3], A[4], A[5]
  local rk = P .. 'r:' .. room
  if to ~= '' and redis.call('HEXISTS', rk, to) == 0 then return -1 end
  if id ~= '' and not redis.call('SET', P .. 'rest:' .. room .. '\n' .. id, '1', 'NX', 'EX', RESTTTL) then return -2 end
  if to ~= '' then
    push(sidOf(to), 'signal', '{"from":"@server","room":"' .. room .. '","data":' .. data .. '}')
    return 1
  end
  local members = redis.call('HKEYS', rk)
  local body = '{"from":"@server","room":"' .. room .. '","data":' .. data .. '}'
  for i = 1, #members do push(sidOf(members[i]), 'broadcast', body) end
  return #members
elseif op == 'peers' then
  -- room → the presence as JSON. Twin: rooms.ts MemoryRoomStore.members.
  return peersJson(P .. 'r:' .. A[2], P .. 'rv:' .. A[2], '')
end
return redis.error_reply('unknown op ' .. tostring(op))
