-- One rate-limit check in one round trip: a sliding window counter (as `limits` computes it)
-- that grants up to ARGV[3] hits at once (a process's local lease) and answers what the
-- RateLimit headers need. KEYS[1]: the client's key prefix; ARGV[1]: limit; ARGV[2]: window
-- in seconds; ARGV[3]: hits wanted.
-- Returns {hits granted (0 = denied), remaining after them, milliseconds until a hit may pass
--          (0 if now), milliseconds until the current window ends}.
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local clock = redis.call('TIME')  -- the server's clock: the same for every API process
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local index = math.floor(now / window)
local current_key = KEYS[1] .. ':' .. index
local previous = tonumber(redis.call('GET', KEYS[1] .. ':' .. (index - 1)) or '0')
local current = tonumber(redis.call('GET', current_key) or '0')
local elapsed = (now - index * window) / window  -- share of the current window gone by
local weighted = previous * (1 - elapsed) + current
local window_left = (index + 1) * window - now
local granted = math.min(wanted, math.floor(limit - weighted))
if granted >= 1 then
  if redis.call('INCRBY', current_key, granted) == granted then
    redis.call('EXPIRE', current_key, 2 * window)
  end
  local remaining = math.floor(limit - weighted - granted)
  return {granted, remaining, 0, math.ceil(window_left * 1000)}
end
local wait
if current + 1 > limit then
  -- only once the current window's count decays in the next one
  wait = window_left + (1 - (limit - 1) / current) * window
else
  wait = ((1 - (limit - 1 - current) / previous) - elapsed) * window
end
-- capped at one window, as clients of `limits` were told (a retry then checks again)
wait = math.min(math.max(wait, 0), window)
return {0, 0, math.ceil(wait * 1000), math.ceil(window_left * 1000)}
