-- One rate-limit check in one round trip: a sliding window counter (as `limits` computes it)
-- that counts the hit when allowed and answers what the RateLimit headers need.
-- KEYS[1]: the client's key prefix; ARGV[1]: limit; ARGV[2]: window in seconds.
-- Returns {allowed (0|1), remaining, milliseconds until the next hit may pass (0 if now),
--          milliseconds until the current window ends}.
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local clock = redis.call('TIME')  -- the server's clock: the same for every API process
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local index = math.floor(now / window)
local current_key = KEYS[1] .. ':' .. index
local previous = tonumber(redis.call('GET', KEYS[1] .. ':' .. (index - 1)) or '0')
local current = tonumber(redis.call('GET', current_key) or '0')
local elapsed = (now - index * window) / window  -- share of the current window gone by
local weighted = previous * (1 - elapsed) + current
local window_left = (index + 1) * window - now
if weighted + 1 <= limit then
  if redis.call('INCR', current_key) == 1 then
    redis.call('EXPIRE', current_key, 2 * window)
  end
  local remaining = math.floor(limit - weighted - 1)
  return {1, remaining, 0, math.ceil(window_left * 1000)}
end
local wait
if current + 1 > limit then
  -- only once the current window's count decays in the next one
  wait = window_left + (1 - (limit - 1) / current) * window
else
  wait = ((1 - (limit - 1 - current) / previous) - elapsed) * window
end
return {0, 0, math.ceil(math.max(wait, 0) * 1000), math.ceil(window_left * 1000)}
