import { createHash } from 'node:crypto';
import type { Algorithm } from '../options.js';

/**
 * The Lua scripts of the Redis limiter, one per algorithm: each decides one hit in one round
 * trip, atomically (Redis runs a script alone), with exactly the formulas of
 * `src/limiter/algorithms/`, operation for operation, so that both backends give the same
 * decisions: Lua numbers are the same IEEE doubles, and every stored or returned fractional number
 * is written with `%.17g`, which reads back bit for bit.
 *
 * A limiter's numbers (limit, windowMs, the expiry grace, how long a hit's record is kept) and its
 * clock are written into its script as constants (JavaScript's shortest round-trip form, which
 * Lua reads back exactly), so a hit sends only KEYS[1], the key, KEYS[2], the hit's record, and
 * ARGV: cost, the hit's deadline in Redis time, `t` when the caller wants Redis's time with an
 * admitted answer (else empty), then now when the caller gives the clock (else the script reads
 * Redis's own clock, TIME).
 *
 * Delivery. A script runs a hit at most once, and only before its deadline: a hit whose record
 * exists was run already (ioredis resends a command whose reply a dying connection lost), and is
 * answered from the record without counting again; a hit that arrives once its deadline has passed
 * (it waited in a client's offline queue, or behind a paused Redis, while the caller settled it
 * without Redis) changes nothing. The deadline is checked against Redis's TIME in both clock modes.
 *
 * Replies carry Redis's time in whole ms (rounded down), which the caller uses to place later
 * deadlines: the count, an integer, when admitted (`remaining` is `limit − count` for every
 * algorithm), or `{count, time}` when the caller asked for the time; `{retryAfterMs (string),
 * used, time}` when denied; `{time}` when the deadline had passed. A denied or late hit writes
 * nothing; an admitted one writes its record (`SET … PX NX`).
 *
 * Every write sets the key's expiry (`SET … PX` or `PEXPIRE`) to when its state becomes
 * equivalent to a fresh key's, plus the grace, so Redis forgets idle keys by itself, without
 * `EXPIRE … NX` (Redis 7+); they need Redis 4 (HSET of several fields), and
 * `redis.replicate_commands()` lets Redis 4 write after TIME.
 * The scripts are written for cost: an admitted hit creates no Lua closure it does not use.
 */

/** What a script is made for. */
export interface ScriptConfig {
  readonly limit: number;
  readonly windowMs: number;
  /** Milliseconds added to every expiry. */
  readonly grace: number;
  /** How long, in whole ms, an admitted hit's record is kept for its resends. */
  readonly keepMs: number;
  /** True: decide on Redis's clock (TIME); false: now is ARGV[4]. */
  readonly redisClock: boolean;
}

function prelude(config: ScriptConfig): string {
  return `
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local redis_now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local stamp = math.floor(redis_now)
local record = KEYS[2]
if redis_now >= tonumber(ARGV[2]) then
  ${answerIfRan}
  return {stamp}
end
local key = KEYS[1]
local cost = tonumber(ARGV[1])
local limit = ${String(config.limit)}
local window_ms = ${String(config.windowMs)}
local grace = ${String(config.grace)}
local keep = ${String(config.keepMs)}
local now = ${config.redisClock ? 'redis_now' : 'tonumber(ARGV[4])'}
`;
}

/** Lua statements answering an admitted hit: the count, with Redis's time when the caller asked for it. */
const answer = (count: string): string => `if ARGV[3] == 't' then return {${count}, stamp} end
  return ${count}`;

/** A hit Redis ran already (its record exists) is answered from its record (a Lua statement). */
const answerIfRan = `local ran = redis.call('GET', record)
  if ran then
    ${answer('tonumber(ran)')}
  end`;

/**
 * The start of an admitted hit's branch, before it writes anything: records the hit, and when
 * its record exists already (a resend of a hit Redis ran), answers from it instead of counting
 * again. One command on the admitted path; denied and late hits look the record up instead.
 */
const claim = (count: string): string => `local admitted = ${count}
  if not redis.call('SET', record, admitted, 'PX', keep, 'NX') then
    ${answer("tonumber(redis.call('GET', record))")}
  end`;

/** Answers an admitted hit. */
const admitted = answer('admitted');

/**
 * Helpers of the denial path (float-time.ts): the doubles just above and below x, the delay after
 * which a clock reading `from` reads at least `time`, and the next delay a bucket tries when its
 * formula fell short (`laterDelay`). Defined only where a script denies, so that an admitted hit
 * does not pay for creating them.
 */
const floatTime = `
  local function next_up(x)
    if x == 0 then return math.ldexp(1, -1074) end
    local m, e = math.frexp(x)
    local step = e - 53
    if x < 0 and m == -0.5 then step = e - 54 end
    if step < -1074 then step = -1074 end
    return x + math.ldexp(1, step)
  end
  local function next_down(x) return -next_up(-x) end
  local function delay_until(from, time)
    if not (time > from) then return 0 end
    local delay = time - from
    while from + delay < time do delay = next_up(delay) end
    return delay
  end
  local function later_delay(delay)
    local later = delay + 1
    if now + later > now + delay then return later end
    return delay_until(now, next_up(now + delay))
  end
`;

/**
 * How long Redis keeps a key whose state is equivalent to a fresh one in `ms` (a Lua expression):
 * at least 1 ms, and below 2^53, which Redis still writes as plain digits when it turns the number
 * into PEXPIRE's argument (from 1e17 on it would write an exponent, which PEXPIRE refuses).
 */
const expiry = (ms: string): string => `math.min(9007199254740991, math.max(1, math.ceil(${ms}) + grace))`;

/**
 * algorithms/fixed-window.ts: a hash `{ w: <window>, c: <count> }`. A hit in the key's window is
 * an HMGET, its record's SET and an HINCRBY (the expiry set when the window began still holds);
 * the first hit of a window rewrites both fields and the expiry.
 */
const fixedWindow = `
local window = math.floor(now / window_ms)
local used = 0
local stored = redis.call('HMGET', key, 'w', 'c')
local same = stored[1] and tonumber(stored[1]) == window
if same then used = tonumber(stored[2]) end
if used + cost <= limit then
  ${claim('used + cost')}
  if same then
    redis.call('HINCRBY', key, 'c', cost)
  else
    redis.call('HSET', key, 'w', string.format('%.17g', window), 'c', cost)
    redis.call('PEXPIRE', key, ${expiry('(window + 1) * window_ms - now')})
  end
  ${admitted}
end
${answerIfRan}
${floatTime}
local ends = (window + 1) * window_ms
if ends == 0 then ends = 0 else
  while math.floor(next_down(ends) / window_ms) > window do ends = next_down(ends) end
  while math.floor(ends / window_ms) <= window do ends = next_up(ends) end
end
return {string.format('%.17g', delay_until(now, ends)), used, stamp}
`;

/**
 * algorithms/sliding-window.ts: a list whose element 0 is a header "<used> <newest>" (the sum of
 * the logged costs and the newest entry's time), then the entries as (time, cost) pairs, oldest
 * first. A hit reads the header and the front of the log, 16 pairs at a time, only as far as it
 * must (the expired entries, and on a denial those whose expiry frees enough), so its cost does
 * not grow with the limit; the memory backend does the same with an index into an array.
 */
const slidingWindow = `
local front = redis.call('LRANGE', key, 0, 32)
local header = front[1]
local used = 0
local newest = now
if header then
  local space = string.find(header, ' ', 1, true)
  used = tonumber(string.sub(header, 1, space - 1))
  newest = tonumber(string.sub(header, space + 1))
end
local time = now
if newest > now then time = newest end
-- Pair p (from 0) is at list index 1 + 2p; chunk holds the list from index 1 + 2 * chunk_start.
local chunk = front
local chunk_start = 0
local chunk_offset = 1
local function pair(p)
  if p < chunk_start or p >= chunk_start + 16 then
    chunk_start = p - p % 16
    chunk = redis.call('LRANGE', key, 1 + 2 * chunk_start, 2 * chunk_start + 32)
    chunk_offset = 0
  end
  local i = chunk_offset + 2 * (p - chunk_start) + 1
  local t = chunk[i]
  if t == nil then return nil end
  return tonumber(t), tonumber(chunk[i + 1])
end
local first = 0
local all_expired = header ~= nil
if header then
  while true do
    local t, c = pair(first)
    if t == nil then break end
    if time - t < window_ms then
      all_expired = false
      break
    end
    used = used - c
    first = first + 1
  end
end
if used + cost <= limit then
  local count = used + cost
  ${claim('count')}
  local new_header = string.format('%d %.17g', count, time)
  if all_expired then redis.call('DEL', key) end
  if header == nil or all_expired then
    redis.call('RPUSH', key, new_header, string.format('%.17g', time), string.format('%d', cost))
  else
    if first > 0 then redis.call('LTRIM', key, 2 * first, -1) end
    redis.call('LSET', key, 0, new_header)
    redis.call('RPUSH', key, string.format('%.17g', time), string.format('%d', cost))
  end
  redis.call('PEXPIRE', key, ${expiry('time + window_ms - now')})
  ${admitted}
end
${answerIfRan}
${floatTime}
local need = used + cost - limit
local index = first
local oldest, freed = pair(index)
while freed < need do
  index = index + 1
  local t, c = pair(index)
  oldest = t
  freed = freed + c
end
local at = oldest + window_ms
while math.max(at, newest) - oldest < window_ms do at = next_up(at) end
return {string.format('%.17g', delay_until(now, at)), used, stamp}
`;

/**
 * The buckets keep "<value> <updatedAt>" under the key: this reads it into `name` and `updated`,
 * or `initial` and `now` for a fresh key.
 */
function storedPair(name: string, initial: string): string {
  return `local ${name} = ${initial}
local updated = now
local stored = redis.call('GET', key)
if stored then
  local space = string.find(stored, ' ', 1, true)
  ${name} = tonumber(string.sub(stored, 1, space - 1))
  updated = tonumber(string.sub(stored, space + 1))
end`;
}

/** algorithms/token-bucket.ts: the value is "<tokens> <updatedAt>". */
const tokenBucket = `
${storedPair('tokens', 'limit')}
local function tokens_at(t)
  local elapsed = 0
  if t > updated then elapsed = t - updated end
  local v = tokens + elapsed * limit / window_ms
  if v < limit then return v end
  return limit
end
local time = now
if updated > now then time = updated end
local available = tokens_at(time)
if available >= cost then
  local left = available - cost
  ${claim('limit - math.floor(left)')}
  redis.call('SET', key, string.format('%.17g %.17g', left, time), 'PX', ${expiry('time - now + (limit - left) * window_ms / limit')})
  ${admitted}
end
${answerIfRan}
${floatTime}
local delay = time - now + math.ceil((cost - available) * window_ms / limit)
while tokens_at(now + delay) < cost do delay = later_delay(delay) end
return {string.format('%.17g', delay), limit - math.floor(available), stamp}
`;

/** algorithms/leaky-bucket.ts: the value is "<level> <updatedAt>". */
const leakyBucket = `
${storedPair('level', '0')}
local function level_at(t)
  local elapsed = 0
  if t > updated then elapsed = t - updated end
  local v = level - elapsed * limit / window_ms
  if v > 0 then return v end
  return 0
end
local time = now
if updated > now then time = updated end
local current = level_at(time)
if current + cost <= limit then
  local new_level = current + cost
  ${claim('limit - math.floor(limit - new_level)')}
  redis.call('SET', key, string.format('%.17g %.17g', new_level, time), 'PX', ${expiry('time - now + new_level * window_ms / limit')})
  ${admitted}
end
${answerIfRan}
${floatTime}
local delay = time - now + math.ceil((current + cost - limit) * window_ms / limit)
while level_at(now + delay) + cost > limit do delay = later_delay(delay) end
return {string.format('%.17g', delay), limit - math.floor(limit - current), stamp}
`;

/** A script's source and the SHA-1 that `EVALSHA` knows it by. */
export interface LimiterScript {
  readonly source: string;
  readonly sha1: string;
}

const bodies: Readonly<Record<Algorithm, string>> = {
  fixed_window: fixedWindow,
  sliding_window: slidingWindow,
  token_bucket: tokenBucket,
  leaky_bucket: leakyBucket,
};

/** Scripts made so far, by source: limiters with the same numbers share one. */
const made = new Map<string, LimiterScript>();

/** The script of `algorithm` for `config`. */
export function limiterScript(algorithm: Algorithm, config: ScriptConfig): LimiterScript {
  const source = `${prelude(config)}${bodies[algorithm]}`;
  let script = made.get(source);
  if (script === undefined) {
    script = Object.freeze({ source, sha1: createHash('sha1').update(source).digest('hex') });
    made.set(source, script);
  }
  return script;
}
