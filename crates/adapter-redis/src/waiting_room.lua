-- The waiting room of one concert. Every port call is one run of this script, so each is atomic
-- across instances; all keys share the room's hash tag, so they sit in one Cluster slot.
--
-- KEYS: 1 meta (HASH: seq, unsold, known, closed, ttl), 2 waiting (ZSET token -> seq),
-- 3 seen (ZSET token -> last poll), 4 active (ZSET token -> active until), 5 users (HASH user ->
-- token), 6 owners (HASH token -> user), 7 holds (ZSET hold -> expires), 8 sold (SET of holds),
-- 9 admitted (ZSET token -> admitted at).
-- ARGV[1] is the operation; instants and durations are integer microseconds (exact in a double).
-- Room calls (join, poll, finish) pass: 2 now, 3 max_active, 4 margin, 5 active_ttl,
-- 6 idle_timeout, 7 rate_window, 8 key ttl (ms), then their own arguments.
-- Inventory calls (inventory, hold, release, sale, close) pass: 2 key ttl (ms) to use when the
-- room has none stored, then their own arguments.
-- Room calls answer {code, token, position, active_until, free_seats, admitted_recently}:
-- code 1 waiting, 2 active, 0 no such place, -1 inventory unknown, -2 closed.

local meta, waiting, seen, active, users, owners, holds, sold, admitted =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local op = ARGV[1]
-- At most this many removals of each kind, and admissions, per call: the work stays bounded,
-- and what is left is done by the next calls.
local BOUND = 200

-- Refreshes every key's expiry, so an abandoned room disappears as a whole.
local function touch(ttl)
  for i = 1, #KEYS do
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end

local function stored_ttl(fallback)
  return tonumber(redis.call('HGET', meta, 'ttl') or fallback)
end

-- The token's owner forgets it.
local function forget(token)
  local user = redis.call('HGET', owners, token)
  redis.call('HDEL', owners, token)
  if user and redis.call('HGET', users, user) == token then
    redis.call('HDEL', users, user)
  end
end

-- Up to BOUND members of `key` scored at most `score`, removed.
local function take_upto(key, score)
  local members = redis.call('ZRANGEBYSCORE', key, '-inf', score, 'LIMIT', 0, BOUND)
  if #members > 0 then
    redis.call('ZREM', key, unpack(members))
  end
  return members
end

-- What time has done: idle waiting users, ended active periods, expired holds, old admissions.
local function tidy(now, idle, window)
  for _, token in ipairs(take_upto(seen, now - idle)) do
    redis.call('ZREM', waiting, token)
    forget(token)
  end
  for _, token in ipairs(take_upto(active, now)) do
    forget(token)
  end
  take_upto(holds, now)
  take_upto(admitted, now - window)
end

local function free_seats()
  local unsold = tonumber(redis.call('HGET', meta, 'unsold') or '0')
  local live = redis.call('ZCARD', holds)
  local free = unsold - live
  if free < 0 then free = 0 end
  return free, live
end

-- Admits waiting users in arrival order: the rule of reserva_domain::tickets::admissible.
local function admit(now, max_active, margin, active_ttl)
  local free, live = free_seats()
  local room = math.min(max_active, free + margin + live) - redis.call('ZCARD', active)
  if room > BOUND then room = BOUND end
  if room <= 0 then return end
  local next_in_line = redis.call('ZRANGE', waiting, 0, room - 1)
  for _, token in ipairs(next_in_line) do
    redis.call('ZREM', waiting, token)
    redis.call('ZREM', seen, token)
    redis.call('ZADD', active, now + active_ttl, token)
    redis.call('ZADD', admitted, now, token)
  end
end

local function place(token, now, window)
  local free = free_seats()
  -- Formatted by hand: Lua's own number-to-string conversion rounds to 14 digits.
  local recent = redis.call('ZCOUNT', admitted, string.format('(%.0f', now - window), '+inf')
  local active_until = redis.call('ZSCORE', active, token)
  if active_until then
    return {2, token, 0, tonumber(active_until), free, recent}
  end
  local rank = redis.call('ZRANK', waiting, token)
  if rank then
    return {1, token, rank + 1, 0, free, recent}
  end
  return {0, '', 0, 0, 0, 0}
end

-- Whether `token` is a live place of `user`.
local function owned(token, user)
  return redis.call('HGET', owners, token) == user
    and (redis.call('ZSCORE', active, token) or redis.call('ZSCORE', waiting, token))
end

if op == 'join' or op == 'poll' or op == 'finish' then
  local now, max_active, margin = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
  local active_ttl, idle, window = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
  local ttl, user, token = ARGV[8], ARGV[9], ARGV[10]
  local closed = redis.call('HGET', meta, 'closed') == '1'
  local known = redis.call('HGET', meta, 'known') == '1'
  if op ~= 'finish' then
    if closed then return {-2, '', 0, 0, 0, 0} end
    if not known then
      -- Changing nothing: the caller loads the inventory and calls again.
      if op == 'join' or owned(token, user) then return {-1, '', 0, 0, 0, 0} end
      return {0, '', 0, 0, 0, 0}
    end
  end
  redis.call('HSET', meta, 'ttl', ttl)
  tidy(now, idle, window)
  local answer
  if op == 'finish' then
    answer = 0
    if owned(token, user) then
      redis.call('ZREM', waiting, token)
      redis.call('ZREM', seen, token)
      redis.call('ZREM', active, token)
      forget(token)
      answer = 1
    end
  else
    if op == 'join' then
      local existing = redis.call('HGET', users, user)
      if existing and owned(existing, user) then
        token = existing
      else
        local seq = redis.call('HINCRBY', meta, 'seq', 1)
        redis.call('ZADD', waiting, seq, token)
        redis.call('HSET', users, user, token)
        redis.call('HSET', owners, token, user)
      end
    elseif not owned(token, user) then
      touch(ttl)
      return {0, '', 0, 0, 0, 0}
    end
    -- A join or poll keeps a waiting place.
    if redis.call('ZSCORE', waiting, token) then
      redis.call('ZADD', seen, now, token)
    end
  end
  if known and not closed then
    admit(now, max_active, margin, active_ttl)
  end
  touch(ttl)
  if op == 'finish' then return answer end
  return place(token, now, window)
end

local ttl = stored_ttl(ARGV[2])
if op == 'inventory' then
  redis.call('HSET', meta, 'unsold', ARGV[3], 'known', '1')
  redis.call('HDEL', meta, 'closed')
  redis.call('DEL', holds)
  -- ZADD in chunks: Lua's unpack has a stack limit.
  local i = 4
  while i < #ARGV do
    local chunk = {}
    while i < #ARGV and #chunk < 200 do
      chunk[#chunk + 1] = ARGV[i + 1]
      chunk[#chunk + 1] = ARGV[i]
      i = i + 2
    end
    redis.call('ZADD', holds, unpack(chunk))
  end
elseif op == 'hold' then
  if redis.call('SISMEMBER', sold, ARGV[3]) == 0 then
    redis.call('ZADD', holds, ARGV[4], ARGV[3])
  end
elseif op == 'release' then
  redis.call('ZREM', holds, ARGV[3])
elseif op == 'sale' then
  -- Once per hold, so a repeated record changes nothing.
  if redis.call('SADD', sold, ARGV[3]) == 1 then
    redis.call('ZREM', holds, ARGV[3])
    if tonumber(redis.call('HGET', meta, 'unsold') or '0') > 0 then
      redis.call('HINCRBY', meta, 'unsold', -1)
    end
  end
elseif op == 'close' then
  redis.call('DEL', waiting, seen, active, users, owners, admitted)
  redis.call('HSET', meta, 'closed', '1')
else
  return redis.error_reply('unknown waiting room operation ' .. tostring(op))
end
touch(ttl)
return 1
